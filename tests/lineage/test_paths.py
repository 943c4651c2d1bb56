"""The pure walk behind path answers (including on cycles), and node references against
Marquez's own rule."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from trustplane.lineage.nodes import NamedNode, parse_node
from trustplane.lineage.paths import paths_to_sources

DIAMOND = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("x", "c")]


def test_every_path_from_each_source() -> None:
    paths, cut = paths_to_sources(DIAMOND, "d", {"a", "x"}, 10)
    assert paths == [["a", "b", "d"], ["a", "c", "d"], ["x", "c", "d"]]
    assert not cut


def test_too_many_paths_are_cut() -> None:
    paths, cut = paths_to_sources(DIAMOND, "d", {"a", "x"}, 2)
    assert len(paths) == 2 and cut


def test_a_branch_that_ends_short_of_a_source_is_reported() -> None:
    paths, cut = paths_to_sources([("b", "d")], "d", {"a"}, 10)
    assert paths == [] and cut


def test_cycles_end() -> None:
    loop = [("a", "b"), ("b", "c"), ("c", "b"), ("c", "d")]
    paths, cut = paths_to_sources(loop, "d", {"a"}, 10)
    assert paths == [["a", "b", "c", "d"]] and not cut


def _marquez_split(text: str) -> tuple[str, str, str]:
    """Marquez's NodeId rule: split at colons followed by neither '//' nor a digit."""
    parts = re.split(r":(?!//|\d)", text, maxsplit=2)
    return parts[0], parts[1], parts[2]


@given(
    st.sampled_from(["s3://lake", "postgres://db:5432", "kafka://b:9092", "airflow", "file"]),
    st.from_regex(r"[a-z][a-z0-9_./:-]{0,20}", fullmatch=True),
)
def test_we_agree_with_marquez_where_it_is_right(namespace: str, name: str) -> None:
    text = f"dataset:{namespace}:{name}"
    if _marquez_split(text) != ("dataset", namespace, name):
        return  # Marquez itself gets this one wrong (e.g. a name starting with a digit)
    assert parse_node(text) == NamedNode("dataset", namespace, name)
