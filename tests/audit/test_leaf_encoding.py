"""The canonical encoder (``canonical_json``, which ``record`` uses) is RFC 8785 for every value.

It encodes plain values with the standard library's JSON encoder, floats first put in
ECMAScript's form, and leaves the rest (small floats, large integers, characters outside the
Basic Multilingual Plane, other types) to the RFC 8785 encoder. These properties hold it to
the RFC 8785 encoder byte for byte, including refusing what RFC 8785 refuses, and a stored
event with such a payload stays canonical.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.factories import unique
from trustplane.audit import Origin, Target, record
from trustplane.audit.canonical import canonical_json
from trustplane.audit.events import EventDetails, _leaf_text
from trustplane.audit.models import AuditEvent, LedgerHead
from trustplane.db.session import scope_to_tenant, unit_of_work
from trustplane.identity.actor import Actor

PROPERTIES = settings(max_examples=1500, deadline=None, derandomize=True)

_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"])
    | st.sampled_from(["\u0000", "\u001f", "\u007f", '"', "\\", "\ud800", "\U0001f600", "\ufb01"])
)
_integers = st.integers(min_value=-(2**60), max_value=2**60) | st.sampled_from(
    [2**53 - 1, 2**53, -(2**53) + 1, -(2**53)]
)
_floats = st.floats(allow_nan=True) | st.sampled_from(
    [
        1.0,
        -0.0,
        100.0,
        0.1,
        1e-4,
        9.99e-5,
        1e-6,
        1e-7,
        1.5e-5,
        2.0**53,
        2.0**53 - 1,
        4503599627370495.5,
        1e16,
        1e21,
        1e22,
        123456.789,
        -2.5e-4,
        5e-324,
        1.7976931348623157e308,
    ]
)
_scalars = st.none() | st.booleans() | _integers | _floats | _text
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(_text, inner, max_size=4)
    ),
    max_leaves=12,
)


def _reference(body: dict[str, Any]) -> bytes | type[Exception]:
    try:
        return bytes(rfc8785.dumps(body))
    except Exception as exc:
        return type(exc)


@PROPERTIES
@given(payload=st.dictionaries(_text, _values, max_size=5), name=_text)
def test_leaf_text_is_rfc8785(payload: dict[str, Any], name: str) -> None:
    body = {"seq": 3, "actor": {"name": name}, "payload": payload, "digests": ["sha256:ab"]}
    expected = _reference(body)
    if isinstance(expected, bytes):
        text, data = _leaf_text(body)
        assert data == expected
        assert text.encode("utf-8") == expected
    else:
        with pytest.raises(expected):
            _leaf_text(body)


@PROPERTIES
@given(value=_values)
def test_canonical_json_is_rfc8785(value: Any) -> None:
    try:
        expected: bytes | type[Exception] = bytes(rfc8785.dumps(value))
    except Exception as exc:
        expected = type(exc)
    if isinstance(expected, bytes):
        assert canonical_json(value) == expected
    else:
        with pytest.raises(expected):
            canonical_json(value)


@pytest.mark.parametrize(
    "payload",
    [
        {"\U0001f600": 1, "\ufb01": 2},  # UTF-16 order differs from code point order
        {"ratio": 0.1, "big": 2**53 - 1, "exp": 1e21},
        {"control": "\u0000\u001f\u007f", "quote": '"\\'},
    ],
)
def test_recorded_leaf_stays_canonical(
    session_factory: sessionmaker[Session], tenant: TenantCtx, payload: dict[str, Any]
) -> None:
    actor = Actor(tenant.admin_id, "admin", "user", "token", tenant.id, Origin("enc-test"))
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        event = record(
            session,
            actor,
            "test.encode",
            Target("test", "1"),
            details=EventDetails(payload=payload),
        )
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        leaf = session.scalar(select(AuditEvent.leaf).where(AuditEvent.id == event.id))
    assert leaf is not None
    assert rfc8785.dumps(orjson.loads(leaf)) == leaf.encode("utf-8")
    assert orjson.loads(leaf)["payload"] == orjson.loads(orjson.dumps(payload))


@pytest.mark.parametrize(
    "payload", [{"lone": "\ud800"}, {1: "integer key"}, {"big": 2**53}, {"nan": float("nan")}]
)
def test_unencodable_payload_is_refused_and_leaves_no_event(
    session_factory: sessionmaker[Session], tenant: TenantCtx, payload: dict[Any, Any]
) -> None:
    correlation = unique("enc-refused")
    actor = Actor(tenant.admin_id, "admin", "user", "token", tenant.id, Origin(correlation))
    with pytest.raises(rfc8785.CanonicalizationError), unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        record(
            session,
            actor,
            "test.encode",
            Target("test", "1"),
            details=EventDetails(payload=payload),
        )
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        refused = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.tenant_id == tenant.id, AuditEvent.correlation_id == correlation)
        )
        events = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.tenant_id == tenant.id)
        )
        size = session.scalar(select(LedgerHead.size).where(LedgerHead.tenant_id == tenant.id))
    assert refused == 0
    assert size == events
