"""Node references: the Marquez forms, Trustplane ids, and a lossless canonical text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ulid import ULID

from trustplane.lineage.nodes import (
    ID_KINDS,
    IdNode,
    InvalidNode,
    NamedNode,
    format_node,
    kind_of,
    parse_node,
)

KINDS = st.sampled_from(["dataset", "job"])
TEXT = st.text(min_size=1, max_size=40)
HOST = st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True)
SCHEME = st.sampled_from(["s3", "gs", "postgres", "mysql", "kafka", "hdfs", "abfss", "bigquery"])
PORT = st.integers(min_value=1, max_value=65535)


@st.composite
def uri_namespaces(draw: st.DrawFn) -> tuple[str, bool]:
    """``scheme://host[:port][,host[:port]...]`` and whether it ends with a port."""
    hosts = draw(st.lists(st.tuples(HOST, st.none() | PORT), min_size=1, max_size=3))
    authority = ",".join(h if p is None else f"{h}:{p}" for h, p in hosts)
    return f"{draw(SCHEME)}://{authority}", hosts[-1][1] is not None


NAMES = st.text(min_size=1, max_size=40)


@pytest.mark.parametrize(
    ("text", "namespace", "name"),
    [
        ("dataset:s3://lake:raw/events", "s3://lake", "raw/events"),
        (
            "dataset:postgres://db.internal:5432:shop.public.orders",
            "postgres://db.internal:5432",
            "shop.public.orders",
        ),
        ("dataset:s3://lake:2024/events", "s3://lake", "2024/events"),
        ("dataset:kafka://b1:9092,b2:9092:orders", "kafka://b1:9092,b2:9092", "orders"),
        ("dataset:s3://lake/prefix:part:1", "s3://lake/prefix", "part:1"),
        ("dataset:postgres://[::1]:5432:db.t", "postgres://[::1]:5432", "db.t"),
        (
            "dataset:arn:aws:glue:eu-west-1:123456789012:table/db/t",
            "arn:aws:glue:eu-west-1:123456789012",
            "table/db/t",
        ),
        ("job:airflow:etl.load_orders", "airflow", "etl.load_orders"),
        ("job:food_delivery:a:b:c", "food_delivery", "a:b:c"),
        ("dataset:%733:%2F%2Flake", "s3", "//lake"),
        ("dataset:weird%3Ans:x%3Ay", "weird:ns", "x:y"),
    ],
)
def test_marquez_style_references(text: str, namespace: str, name: str) -> None:
    node = parse_node(text)
    assert node == NamedNode(text.partition(":")[0], namespace, name)  # type: ignore[arg-type]
    assert parse_node(format_node(node)) == node


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model:a:b", "is not a node"),
        ("dataset", "is not a node"),
        ("dv_123", "is not a node"),
        ("mv_" + "I" * 26, "is not a node"),  # I is not a ULID character
        ("dataset:s3://lake", "needs a namespace and a name"),
        ("dataset:only-namespace", "needs a namespace and a name"),
        ("dataset::name", "needs a namespace and a name"),
        ("dataset:%zz:x", "bad percent escape"),
        ("dataset:50%:x", "bad percent escape"),
        ("dataset:a%20:b:c", "no raw ':' inside the parts"),
        ("dataset:%FF:x", "does not decode as UTF-8"),
        ("dataset:ns:" + "x" * 501, "longer than 500"),
    ],
)
def test_bad_references_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidNode, match=message):
        parse_node(text)


@pytest.mark.parametrize("prefix", sorted(ID_KINDS))
def test_trustplane_ids(prefix: str) -> None:
    node_id = f"{prefix}_{ULID()}"
    assert parse_node(node_id) == IdNode(node_id, ID_KINDS[prefix])
    assert kind_of(node_id) == ID_KINDS[prefix]
    assert format_node(IdNode(node_id, ID_KINDS[prefix])) == node_id


def test_unknown_prefix_is_an_unknown_kind() -> None:
    assert kind_of("dep_01J") == "unknown"


@given(kind=KINDS, namespace=TEXT, name=TEXT)
def test_format_then_parse_is_the_identity(kind: str, namespace: str, name: str) -> None:
    node = NamedNode(kind, namespace, name)  # type: ignore[arg-type]
    assert parse_node(format_node(node)) == node


@given(kind=KINDS, namespace=uri_namespaces(), name=NAMES)
def test_raw_uri_namespaces_split_where_openlineage_says(
    kind: str, namespace: tuple[str, bool], name: str
) -> None:
    """``scheme://authority`` ends the namespace; the name keeps every colon it has.

    The one ambiguity: after a namespace without a port, a name starting ``digits:`` reads
    as a port, so such names are not generated here (they need the encoded form).
    """
    uri, has_port = namespace
    if not has_port and ":" in name and re.fullmatch("[0-9]+", name.partition(":")[0]):
        return
    assert parse_node(f"{kind}:{uri}:{name}") == NamedNode(kind, uri, name)  # type: ignore[arg-type]


@given(
    kind=KINDS,
    namespace=st.from_regex(r"[A-Za-z0-9_.\-]{1,30}", fullmatch=True).filter(lambda n: n != "arn"),
    name=NAMES,
)
def test_plain_namespaces_end_at_the_first_colon(kind: str, namespace: str, name: str) -> None:
    assert parse_node(f"{kind}:{namespace}:{name}") == NamedNode(kind, namespace, name)  # type: ignore[arg-type]


@given(st.text(max_size=80))
def test_anything_else_is_refused_with_invalid_node_only(text: str) -> None:
    try:
        node = parse_node(text)
    except InvalidNode as exc:
        assert exc.detail and "\n" not in exc.detail
    else:
        assert parse_node(format_node(node)) == node
