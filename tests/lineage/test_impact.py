"""Impact pages and graph listings checked against plain Python walks: on graphs built in the
test, and on random graphs (cycles included), on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.lineage.kit import Kit
from trustplane.db.base import new_id
from trustplane.db.session import scope_to_tenant
from trustplane.errors import InvalidInput
from trustplane.lineage import queries
from trustplane.lineage.impact import impact
from trustplane.lineage.nodes import kind_of
from trustplane.lineage.schemas import ImpactRead

KINDS = ("dv", "fv", "run", "mv")
RANDOM = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
CHAIN = (1, ["run", "dv", "run", "mv"], [(0, 1), (1, 2), (2, 3), (3, 4)])
CYCLE = (2, ["run", "dv", "run"], [(0, 2), (1, 2), (2, 3), (3, 4), (4, 0), (4, 1), (3, 3)])


@pytest.fixture
def session(session_factory: sessionmaker[Session], tenant: TenantCtx) -> Iterator[Session]:
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        yield session
        session.rollback()


def every_page(
    session: Session, kit: Kit, node: str, limit: int, **filters: Any
) -> list[ImpactRead]:
    pages = [impact(session, kit.actor, node, limit=limit, **filters)]
    while pages[-1].next_cursor is not None:
        assert len(pages) < 100, "the cursor does not advance"
        cursor = pages[-1].next_cursor
        pages.append(impact(session, kit.actor, node, cursor=cursor, limit=limit, **filters))
    return pages


def ids(kit: Kit, *names: str) -> list[str]:
    """The ids of ``names``, in id order (the order of every page)."""
    return sorted(kit[n] for n in names)


@pytest.fixture
def fleet(session_factory: sessionmaker[Session], tenant: TenantCtx) -> Kit:
    """Versions a and x of dataset d feed r1 (reads a) and r2 (reads a and x), which write b
    and c (also versions of d); r3 reads b and c and produces m1, m2, m3 of model m (m2 in
    production in prod, m3 in staging). Apart: version z of dataset e feeds r9, producing m9."""
    kit = Kit(session_factory, tenant)
    kit.dataset("d", "s3://lake", "d")
    kit.dataset("e", "s3://lake", "e")
    for name, dataset in (("a", "d"), ("x", "d"), ("b", "d"), ("c", "d"), ("z", "e")):
        kit.dataset_version(name, dataset)
    kit.run("r1", ("a",), ("b",))
    kit.run("r2", ("a", "x"), ("c",))
    kit.run("r3", ("b", "c"))
    kit.run("r9", ("z",))
    kit.model("m")
    for n in (1, 2, 3):
        kit.model_version(f"m{n}", "m", n, "r3", state="production" if n > 1 else "candidate")
    kit.model_version("m9", "m", 9, "r9")
    kit.pointer("m2", "prod")
    kit.pointer("m3", "staging")
    kit.commit()
    return kit


def test_pages_cover_the_answer_exactly_once(fleet: Kit, session: Session) -> None:
    whole = impact(session, fleet.actor, fleet["a"], limit=500)
    assert whole.next_cursor is None
    expected = ids(fleet, "r1", "r2", "b", "c", "r3", "m1", "m2", "m3")
    assert [n.id for n in whole.items] == expected
    assert whole.counts == {"dataset_version": 2, "model_version": 3, "run": 3}
    assert whole.production_pointers == 2
    for limit in (1, 2, 3, 7, 8):
        pages = every_page(session, fleet, fleet["a"], limit)
        assert len(pages) == -(-len(expected) // limit)
        assert all(len(p.items) == limit for p in pages[:-1])
        assert [n.id for p in pages for n in p.items] == expected
        assert all(p.counts == whole.counts for p in pages)
        assert all(p.production_pointers == 2 for p in pages)
        assert [n.model_dump() for p in pages for n in p.items] == [
            n.model_dump() for n in whole.items
        ]


def test_filters_keep_their_kind_and_the_totals_stay_whole(fleet: Kit, session: Session) -> None:
    versions = every_page(session, fleet, fleet["d"], 2, kind="model_version")
    assert [n.id for p in versions for n in p.items] == ids(fleet, "m1", "m2", "m3")
    assert all(p.counts["run"] == 3 for p in versions)
    serving = every_page(session, fleet, fleet["d"], 1, in_production=True)
    assert {fleet.names(n.id): n.production_environments for p in serving for n in p.items} == {
        "m2": ["prod"],
        "m3": ["staging"],
    }
    assert [n.id for p in serving for n in p.items] == ids(fleet, "m2", "m3")
    also = impact(
        session, fleet.actor, fleet["d"], kind="model_version", in_production=True, limit=9
    )
    assert [n.id for n in also.items] == ids(fleet, "m2", "m3")
    runs = impact(session, fleet.actor, fleet["d"], kind="run", limit=50)
    assert sorted(fleet.names([n.id for n in runs.items])) == ["r1", "r2", "r3"]
    with pytest.raises(InvalidInput, match="in_production lists model versions"):
        impact(session, fleet.actor, fleet["d"], kind="run", in_production=True, limit=5)


def test_via_names_the_roots_each_node_derives_from(fleet: Kit, session: Session) -> None:
    found = impact(session, fleet.actor, "dataset:s3://lake:d", limit=50)
    assert sorted(fleet.names([r.id for r in found.root])) == ["a", "b", "c", "x"]
    via = {fleet.names(n.id): sorted(fleet.names([v.id for v in n.via])) for n in found.items}
    # b and c are versions of d as well: they are roots, and what derives from them says so
    assert via == {
        "r1": ["a"],
        "r2": ["a", "x"],
        "r3": ["a", "b", "c", "x"],
        "m1": ["a", "b", "c", "x"],
        "m2": ["a", "b", "c", "x"],
        "m3": ["a", "b", "c", "x"],
    }
    assert found.counts == {"model_version": 3, "run": 3}  # roots are not counted as derived


def test_planner_settings_are_put_back(fleet: Kit, session: Session) -> None:
    """PostgreSQL walks switch hash joins off for their statements only."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("planner settings are a PostgreSQL matter")
    shown = "SELECT current_setting('enable_hashjoin'), current_setting('jit')"
    before = session.execute(text(shown)).one()
    for _ in range(2):  # the second time with the connection's values already known
        impact(session, fleet.actor, fleet["d"], limit=2)
        queries.walk_graph(session, fleet.actor, fleet["a"], "downstream", 3, 10)
        assert session.execute(text(shown)).one() == before


def test_a_reference_without_versions_reaches_nothing(
    session_factory: sessionmaker[Session], tenant: TenantCtx, session: Session
) -> None:
    kit = Kit(session_factory, tenant)
    kit.model("empty")
    kit.commit()
    found = impact(session, kit.actor, kit["empty"], limit=10)
    assert (found.root, found.counts, found.items, found.next_cursor) == ([], {}, [], None)
    assert found.production_pointers == 0


# -- random graphs ----------------------------------------------------------------------------

graphs = st.tuples(
    st.integers(min_value=1, max_value=3),  # versions of the dataset the query names
    st.lists(st.sampled_from(KINDS), max_size=8),  # other nodes
    st.lists(st.tuples(st.integers(0, 10), st.integers(0, 10)), max_size=24),  # edges
)


def build(
    kit: Kit, shape: tuple[int, list[str], list[tuple[int, int]]]
) -> tuple[str, list[str], set[tuple[str, str]]]:
    """The graph in the kit's tenant (new ids, so it shares nothing with earlier examples):
    the dataset's versions are real rows (a reference must resolve); other nodes are bare ids
    at edge ends, described by id and kind alone. Returns the dataset id, its versions and the
    edges."""
    versions, kinds, links = shape
    name = new_id("name")
    dataset = kit.dataset(name, "s3://random", name)
    roots = [kit.dataset_version(new_id("v"), name) for _ in range(versions)]
    nodes = roots + [new_id(kind) for kind in kinds]
    pairs = {(nodes[i % len(nodes)], nodes[j % len(nodes)]) for i, j in links}
    for source, target in sorted(pairs):
        kit.edge(source, target, "input")
    kit.commit()
    return dataset, sorted(roots), pairs


def reached(pairs: set[tuple[str, str]], start: list[str]) -> dict[str, int]:
    """Shortest distance (one step or more) of every node reachable from ``start``."""
    children: dict[str, list[str]] = {}
    for source, target in pairs:
        children.setdefault(source, []).append(target)
    depth: dict[str, int] = {}
    frontier, level = sorted(set(start)), 0
    while frontier:
        level += 1
        following = {c for n in frontier for c in children.get(n, []) if c not in depth}
        depth.update((child, level) for child in following)
        frontier = sorted(following)
    return depth


@RANDOM
@given(shape=graphs, limit=st.integers(1, 4))
@example(shape=CHAIN, limit=1)
@example(shape=CYCLE, limit=2)
def test_impact_agrees_with_a_plain_walk(
    session_factory: sessionmaker[Session],
    tenant: TenantCtx,
    shape: tuple[int, list[str], list[tuple[int, int]]],
    limit: int,
) -> None:
    kit = Kit(session_factory, tenant)
    dataset, roots, pairs = build(kit, shape)
    derived = sorted(set(reached(pairs, roots)) - set(roots))
    counts: dict[str, int] = {}
    for node in derived:
        counts[kind_of(node)] = counts.get(kind_of(node), 0) + 1
    via = {n: [r for r in roots if n in reached(pairs, [r])] for n in derived}
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        pages = every_page(session, kit, dataset, limit)
    assert [n.id for p in pages for n in p.items] == derived
    assert all(p.counts == dict(sorted(counts.items())) for p in pages)
    assert {n.id: [v.id for v in n.via] for p in pages for n in p.items} == via
    assert [r.id for r in pages[0].root] == roots


@RANDOM
@given(
    shape=graphs,
    direction=st.sampled_from(["upstream", "downstream"]),
    depth=st.integers(1, 4),
    max_nodes=st.integers(1, 6),
)
@example(shape=CHAIN, direction="downstream", depth=2, max_nodes=6)
@example(shape=CHAIN, direction="upstream", depth=1, max_nodes=1)
@example(shape=CYCLE, direction="downstream", depth=2, max_nodes=2)
def test_listings_agree_with_a_plain_walk(
    session_factory: sessionmaker[Session],
    tenant: TenantCtx,
    shape: tuple[int, list[str], list[tuple[int, int]]],
    direction: Any,
    depth: int,
    max_nodes: int,
) -> None:
    kit = Kit(session_factory, tenant)
    dataset, roots, pairs = build(kit, shape)
    oriented = {(s, t) if direction == "downstream" else (t, s) for s, t in pairs}
    found = reached(oriented, roots)
    inside = sorted((d, n) for n, d in found.items() if d <= depth and n not in roots)
    listed = [(n, d) for d, n in inside[:max_nodes]]
    kept = set(roots) | {n for n, _ in listed}
    edges = sorted((s, t, "input") for s, t in pairs if s in kept and t in kept)
    truncated = len(inside) > max_nodes or any(d > depth for d in found.values())
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        answer = queries.walk_graph(session, kit.actor, dataset, direction, depth, max_nodes)
    assert [(n.id, n.depth) for n in answer.nodes if n.side != "root"] == listed
    assert [n.id for n in answer.root] == roots
    assert [(e.source, e.target, e.relation) for e in answer.edges] == edges
    assert answer.truncated == truncated
