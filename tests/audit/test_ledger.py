"""The ledger service: tree heads, proofs from stored nodes, checkpoints, insert-only storage."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.factories import bootstrap_tenant, unique
from trustplane.audit import Origin, Target, checkpoints, ledger, merkle, notes, record
from trustplane.audit.events import open_ledger
from trustplane.audit.models import AuditEvent, LedgerCheckpoint
from trustplane.config import Settings
from trustplane.db.base import new_id, utcnow
from trustplane.db.session import scope_to_tenant, system_scope, tenant_scope, unit_of_work
from trustplane.errors import InvalidInput, NotFound
from trustplane.identity.actor import Actor
from trustplane.identity.models import Tenant

NAME = "test-ledger"
SIGNER = notes.Signer.from_seed(NAME, bytes(range(32)))


def _actor(tenant: TenantCtx) -> Actor:
    return Actor(tenant.admin_id, "admin", "user", "token", tenant.id, Origin("corr-ledger"))


def grow(factory: sessionmaker[Session], tenant: TenantCtx, count: int) -> None:
    """Append ``count`` events, a few per transaction."""
    for start in range(0, count, 4):
        with unit_of_work(factory) as session:
            scope_to_tenant(session, tenant.id)
            for i in range(start, min(count, start + 4)):
                record(session, _actor(tenant), "test.grow", Target("test", str(i)))


def leaves(session: Session, tenant_id: str) -> list[bytes]:
    rows = session.scalars(
        select(AuditEvent.leaf).where(AuditEvent.tenant_id == tenant_id).order_by(AuditEvent.seq)
    )
    return [leaf.encode("utf-8") for leaf in rows]


@pytest.fixture
def small(session_factory: sessionmaker[Session], tenant: TenantCtx) -> TenantCtx:
    """A tenant whose ledger holds a handful of leaves beyond its bootstrap events."""
    grow(session_factory, tenant, 6)
    return tenant


@pytest.fixture
def session(session_factory: sessionmaker[Session], small: TenantCtx) -> Iterator[Session]:
    with session_factory() as s:
        scope_to_tenant(s, small.id)
        yield s


def test_tree_head_is_the_root_of_the_stored_leaves(session: Session, small: TenantCtx) -> None:
    data = leaves(session, small.id)
    size, root = ledger.tree_head(session, small.id)
    assert size == len(data) > 6
    assert root == merkle.root_from_leaf_hashes(merkle.leaf_hash(d) for d in data)


def test_every_inclusion_proof_verifies(session: Session, small: TenantCtx) -> None:
    data = leaves(session, small.id)
    for tree_size in (1, len(data) // 2, len(data)):
        for index in range(tree_size):
            proof = ledger.inclusion(session, small.id, index=index, tree_size=tree_size)
            assert proof.leaf == data[index]
            assert proof.leaf_hash == merkle.leaf_hash(data[index])
            expected_root = merkle.root_from_leaf_hashes(map(merkle.leaf_hash, data[:tree_size]))
            assert proof.root == expected_root
            merkle.verify_inclusion(proof.leaf_hash, index, tree_size, proof.audit_path, proof.root)


def test_inclusion_by_event_id_defaults_to_the_current_size(
    session: Session, small: TenantCtx
) -> None:
    size, root = ledger.tree_head(session, small.id)
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.tenant_id == small.id, AuditEvent.seq == 3)
    ).one()
    proof = ledger.inclusion(session, small.id, event_id=event.id)
    assert (proof.event_id, proof.index, proof.tree_size, proof.root) == (event.id, 3, size, root)


def test_every_consistency_proof_verifies(session: Session, small: TenantCtx) -> None:
    size, _ = ledger.tree_head(session, small.id)
    data = leaves(session, small.id)
    roots = [merkle.root_from_leaf_hashes(map(merkle.leaf_hash, data[:n])) for n in range(size + 1)]
    for second in range(1, size + 1):
        for first in range(1, second + 1):
            proof = ledger.consistency(session, small.id, first, second)
            assert (proof.first_root, proof.second_root) == (roots[first], roots[second])
            merkle.verify_consistency(first, second, proof.proof, roots[first], roots[second])
            if first == second:
                assert proof.proof == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"index": 0, "tree_size": 0}, "at least 1"),
        ({"index": 5, "tree_size": 5}, "outside"),
        ({"index": -1}, "outside"),
        ({"index": 0, "tree_size": 10**6}, "larger than the ledger"),
        ({}, "exactly one"),
        ({"index": 0, "event_id": "evt_x"}, "exactly one"),
    ],
)
def test_inclusion_refuses_impossible_requests(
    session: Session, small: TenantCtx, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        ledger.inclusion(session, small.id, **kwargs)  # type: ignore[arg-type]


def test_inclusion_of_an_unknown_or_later_event(session: Session, small: TenantCtx) -> None:
    with pytest.raises(NotFound):
        ledger.inclusion(session, small.id, event_id="evt_01NOSUCHEVENT")
    last = session.scalars(
        select(AuditEvent.id)
        .where(AuditEvent.tenant_id == small.id)
        .order_by(AuditEvent.seq.desc())
    ).first()
    assert last is not None
    with pytest.raises(InvalidInput, match="outside the tree of size 1"):
        ledger.inclusion(session, small.id, event_id=last, tree_size=1)


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [(0, 3, "at least 1"), (4, 3, "larger than second"), (1, 10**6, "larger than the ledger")],
)
def test_consistency_refuses_impossible_sizes(
    session: Session, small: TenantCtx, first: int, second: int, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        ledger.consistency(session, small.id, first, second)


def test_fetch_nodes_reads_exactly_what_is_asked(session: Session, small: TenantCtx) -> None:
    assert ledger.fetch_nodes(session, small.id, []) == {}
    nodes = ledger.fetch_nodes(session, small.id, [(0, 0), (1, 0), (2, 0), (0, 0)])
    assert set(nodes) == {(0, 0), (1, 0), (2, 0)}
    with pytest.raises(ledger.LedgerCorruption, match="missing"):
        ledger.fetch_nodes(session, small.id, [(0, 10**9)])


def test_checkpoint_signs_the_tree_head_and_is_idempotent(
    session_factory: sessionmaker[Session], small: TenantCtx
) -> None:
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, small.id)
        first = checkpoints.create_checkpoint(session, small.id, SIGNER, NAME)
        size, root = ledger.tree_head(session, small.id)
    body = notes.verify_checkpoint(
        first.note, SIGNER.verifier(), checkpoints.origin_for(NAME, small.id)
    )
    assert (body.size, body.root_hash) == (size, root) == (first.size, first.root_hash)
    assert body.origin == f"{NAME}/ledger/{small.id}"
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, small.id)
        again = checkpoints.create_checkpoint(session, small.id, SIGNER, NAME)
        assert (again.size, again.note) == (first.size, first.note)
        assert checkpoints.latest_checkpoint(session, small.id) is not None
    grow(session_factory, small, 1)
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, small.id)
        newer = checkpoints.create_checkpoint(session, small.id, SIGNER, NAME)
        assert newer.size == first.size + 1
        latest = checkpoints.latest_checkpoint(session, small.id)
        assert latest is not None and latest.size == newer.size
        listed = checkpoints.list_checkpoints(session, small.id, None, 10)
        assert [c.size for c in listed] == [first.size, newer.size]
        assert checkpoints.list_checkpoints(session, small.id, first.size, 10) == [listed[1]]
        assert [c.size for c in checkpoints.list_checkpoints(session, small.id, None, 1)] == [
            first.size
        ]


def test_empty_ledger_gets_a_checkpoint_of_the_empty_root(
    session_factory: sessionmaker[Session],
) -> None:
    tenant_id = new_id("ten")
    with unit_of_work(session_factory) as session, tenant_scope(session, tenant_id):
        session.add(
            Tenant(
                id=tenant_id,
                name=unique("empty"),
                display_name="empty",
                created_at=utcnow(),
                created_by="system",
            )
        )
        session.flush()
        open_ledger(session, tenant_id)
        cp = checkpoints.create_checkpoint(session, tenant_id, SIGNER, NAME)
        assert checkpoints.latest_checkpoint(session, tenant_id) is cp
    assert (cp.size, cp.root_hash) == (0, merkle.EMPTY_ROOT)
    assert notes.verify_checkpoint(cp.note, SIGNER.verifier()).size == 0


def test_latest_or_create_signs_in_its_own_transaction(
    session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    with session_factory() as reader:
        scope_to_tenant(reader, tenant.id)
        made = checkpoints.latest_or_create(reader, tenant.id, SIGNER, NAME)
        reader.rollback()
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        stored = checkpoints.latest_checkpoint(session, tenant.id)
        assert stored is not None and stored.note == made.note
        assert checkpoints.latest_or_create(session, tenant.id, SIGNER, NAME).note == made.note


def test_periodic_round_signs_only_grown_ledgers(
    session_factory: sessionmaker[Session], small: TenantCtx
) -> None:
    checkpoints.checkpoint_grown_ledgers(session_factory, SIGNER, NAME)
    with session_factory() as session, system_scope(session):
        assert small.id not in checkpoints.grown_ledgers(session)
    grow(session_factory, small, 2)
    with session_factory() as session, system_scope(session):
        assert small.id in checkpoints.grown_ledgers(session)
    assert checkpoints.checkpoint_grown_ledgers(session_factory, SIGNER, NAME) >= 1
    with session_factory() as session:
        scope_to_tenant(session, small.id)
        size, _ = ledger.tree_head(session, small.id)
        latest = checkpoints.latest_checkpoint(session, small.id)
        assert latest is not None and latest.size == size


def test_signer_from_settings_creates_a_private_key_once(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", ledger_name="acme")
    signer = checkpoints.signer_from_settings(settings)
    path = tmp_path / "home" / "ledger.key"
    assert signer.name == "acme"
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert checkpoints.signer_from_settings(settings).key_id == signer.key_id
    other = Settings(home=tmp_path / "elsewhere", ledger_key_path=path, ledger_name="acme")
    assert checkpoints.signer_from_settings(other).key_id == signer.key_id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_nodes SET hash = hash WHERE tenant_id = :t",
        "DELETE FROM ledger_nodes WHERE tenant_id = :t",
        "UPDATE ledger_checkpoints SET note = 'forged' WHERE tenant_id = :t",
        "DELETE FROM ledger_checkpoints WHERE tenant_id = :t",
    ],
)
def test_raw_changes_to_nodes_and_checkpoints_are_refused(
    session_factory: sessionmaker[Session], small: TenantCtx, statement: str
) -> None:
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, small.id)
        checkpoints.create_checkpoint(session, small.id, SIGNER, NAME)
    with session_factory() as session:
        scope_to_tenant(session, small.id)
        with pytest.raises(DBAPIError, match="insert-only"):
            session.execute(text(statement), {"t": small.id})
        session.rollback()
        scope_to_tenant(session, small.id)
        count = session.scalar(
            select(func.count())
            .select_from(LedgerCheckpoint)
            .where(LedgerCheckpoint.tenant_id == small.id)
        )
    assert count == 1


def test_tenants_see_only_their_own_ledger(
    session_factory: sessionmaker[Session], small: TenantCtx, backend: str
) -> None:
    other = bootstrap_tenant(session_factory)
    with session_factory() as session:
        scope_to_tenant(session, small.id)
        event_id = session.scalar(select(AuditEvent.id).where(AuditEvent.tenant_id == small.id))
    assert event_id is not None
    with session_factory() as session:
        scope_to_tenant(session, other.id)
        with pytest.raises(NotFound):
            ledger.inclusion(session, other.id, event_id=event_id)
        if backend == "postgresql":  # row-level security hides the other head row itself
            with pytest.raises(NotFound):
                ledger.tree_head(session, small.id)


@pytest.mark.parametrize("table", ["ledger_nodes", "ledger_checkpoints"])
def test_truncate_of_ledger_tables_is_refused_on_postgres(
    backend: str, session_factory: sessionmaker[Session], small: TenantCtx, table: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (DELETE without WHERE is covered above)")
    with session_factory() as session:
        scope_to_tenant(session, small.id)
        with pytest.raises(DBAPIError, match="insert-only"):
            session.execute(text(f"TRUNCATE {table} CASCADE"))
        session.rollback()
