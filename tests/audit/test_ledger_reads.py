"""Proof reads on a ledger a few levels deep: the right nodes, by primary key, in one query.

The node query differs per backend (PostgreSQL joins arrays of coordinates, SQLite ORs one
primary-key lookup per node), so both are held to the in-memory tree here, on a ledger whose
proofs need nodes from every level; SQLite's plan is checked to use the key, never a scan.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from trustplane.audit import Origin, Target, ledger, merkle, record
from trustplane.audit.models import AuditEvent
from trustplane.db.session import scope_to_tenant, unit_of_work
from trustplane.identity.actor import Actor

EVENTS = 150  # beyond the bootstrap events: proofs reach level 7


@pytest.fixture
def deep(session_factory: sessionmaker[Session], tenant: TenantCtx) -> TenantCtx:
    actor = Actor(tenant.admin_id, "admin", "user", "token", tenant.id, Origin("corr-reads"))
    for start in range(0, EVENTS, 50):
        with unit_of_work(session_factory) as session:
            scope_to_tenant(session, tenant.id)
            for i in range(start, start + 50):
                record(session, actor, "test.deep", Target("test", str(i)))
    return tenant


@pytest.fixture
def session(session_factory: sessionmaker[Session], deep: TenantCtx) -> Iterator[Session]:
    with session_factory() as s:
        scope_to_tenant(s, deep.id)
        yield s


def _leaf_hashes(session: Session, tenant_id: str) -> list[bytes]:
    rows = session.scalars(
        select(AuditEvent.leaf).where(AuditEvent.tenant_id == tenant_id).order_by(AuditEvent.seq)
    )
    return [merkle.leaf_hash(leaf.encode("utf-8")) for leaf in rows]


def _store(hashes: list[bytes]) -> dict[merkle.NodeId, bytes]:
    """Every perfect node of the tree over ``hashes``, computed in memory."""
    store = {(0, i): h for i, h in enumerate(hashes)}
    level, row = 0, hashes
    while len(row) > 1:
        row = [merkle.node_hash(a, b) for a, b in zip(row[::2], row[1::2], strict=False)]
        level += 1
        store.update(((level, i), h) for i, h in enumerate(row))
    return store


def test_proofs_match_the_tree_in_memory(session: Session, deep: TenantCtx) -> None:
    hashes = _leaf_hashes(session, deep.id)
    size = len(hashes)
    assert size > EVENTS
    store, rng = _store(hashes), random.Random(9162)
    for _ in range(60):
        index = rng.randrange(size)
        tree_size = rng.randint(index + 1, size)
        proof = ledger.inclusion(session, deep.id, index=index, tree_size=tree_size)
        assert proof.audit_path == merkle.inclusion_proof(index, tree_size, store)
        assert proof.root == merkle.root_at(tree_size, store)
        first = rng.randint(1, size)
        second = rng.randint(first, size)
        consistency = ledger.consistency(session, deep.id, first, second)
        assert consistency.proof == merkle.consistency_proof(first, second, store)
        assert consistency.first_root == merkle.root_at(first, store)


def test_fetch_nodes_sends_one_statement_for_many_nodes(session: Session, deep: TenantCtx) -> None:
    wanted = [(0, 0), (0, 99), (1, 7), (3, 2), (5, 1), (7, 0), (2, 30)]
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", count)
    try:
        scope_to_tenant(session, deep.id)
        found = ledger.fetch_nodes(session, deep.id, wanted)
    finally:
        event.remove(bind, "before_cursor_execute", count)
    assert sorted(found) == sorted(wanted)
    assert sum("ledger_nodes" in statement for statement in statements) == 1
    store = _store(_leaf_hashes(session, deep.id))
    assert found == {node: store[node] for node in wanted}


def test_sqlite_reads_nodes_by_primary_key(backend: str, session: Session, deep: TenantCtx) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL plans by statistics; the SQLite plan is fixed by the query shape")
    params = {"tenant": deep.id, "l0": 0, "i0": 1, "l1": 2, "i1": 3, "l2": 5, "i2": 0}
    query = ledger._nodes_query(3).params(params)
    sql = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = session.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
    details = [str(row[-1]) for row in plan]
    assert any("tenant_id=? AND level=? AND idx=?" in d for d in details), details
    assert not any(d.startswith("SCAN") for d in details), details


def test_index_beyond_any_bigint_is_invalid_input(session: Session, deep: TenantCtx) -> None:
    from trustplane.errors import InvalidInput

    with pytest.raises(InvalidInput, match="outside the tree"):
        ledger.inclusion(session, deep.id, index=2**70)
    with pytest.raises(InvalidInput, match="outside the tree"):
        ledger.inclusion(session, deep.id, index=-1)
