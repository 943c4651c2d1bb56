"""Property: any row of the ledger changed behind its triggers is found by ``fsck`` and named.

One ledger is built per backend. Each example opens a writer transaction, lifts a table's
insert-only triggers as its owner could (``tests/tamper.py``), changes rows at random (bytes of
an event's leaf, a whole event, a stored tree node, a checkpoint's note or root column), runs
``fsck`` in that same transaction and rolls everything back, triggers included, so examples
are independent and the ledger is built only once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import bootstrap_tenant
from tests.tamper import triggers_off
from trustplane.audit import Origin, Target, record
from trustplane.audit.checkpoints import create_checkpoint, origin_for, signer_from_settings
from trustplane.audit.fsck import FsckReport, fsck
from trustplane.audit.models import AuditEvent, LedgerCheckpoint, LedgerHead, LedgerNode
from trustplane.config import Settings
from trustplane.db.session import begin_write, scope_to_tenant, unit_of_work
from trustplane.identity.actor import Actor

EVENTS = 40  # beyond the bootstrap events: a tree five levels deep
CHECKPOINT_EVERY = 6
EXAMPLES = settings(max_examples=80, derandomize=True, deadline=None)
# Replacement characters: printable ASCII, a newline, two-byte and three-byte UTF-8.
ALPHABET = [chr(c) for c in range(0x20, 0x7F)] + ["\n", "é", "—"]


@dataclass(frozen=True)
class Ledger:
    tenant_id: str
    size: int
    checkpoints: list[int]  # stored sizes, ascending
    nodes: list[tuple[int, int]]  # every stored (level, index)
    backend: str
    factory: sessionmaker[Session]
    cfg: Settings

    def first_checkpoint_after(self, index: int) -> int | None:
        """The smallest signed size that covers leaf ``index``: the first that a change there
        breaks."""
        return next((size for size in self.checkpoints if size > index), None)


@pytest.fixture(scope="module")
def ledger(session_factory: sessionmaker[Session], settings: Settings, backend: str) -> Ledger:
    tenant = bootstrap_tenant(session_factory)
    actor = Actor.local_system(Origin("fsck-properties"))
    signer = signer_from_settings(settings)
    for i in range(EVENTS):
        with unit_of_work(session_factory) as session:
            scope_to_tenant(session, tenant.id)
            record(session, actor, "test.ping", Target("test", str(i)), tenant_id=tenant.id)
            if i % CHECKPOINT_EVERY == 0 or i == EVENTS - 1:
                create_checkpoint(session, tenant.id, signer, settings.ledger_name)
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        size = session.scalar(select(LedgerHead.size).where(LedgerHead.tenant_id == tenant.id))
        sizes = session.scalars(
            select(LedgerCheckpoint.size)
            .where(LedgerCheckpoint.tenant_id == tenant.id)
            .order_by(LedgerCheckpoint.size)
        )
        nodes = session.execute(
            select(LedgerNode.level, LedgerNode.idx).where(LedgerNode.tenant_id == tenant.id)
        )
        built = Ledger(
            tenant.id,
            int(size or 0),
            list(sizes),
            sorted((int(level), int(idx)) for level, idx in nodes),
            backend,
            session_factory,
            settings,
        )
    assert check(session_factory, built).ok
    return built


def check(session: Session | sessionmaker[Session], ledger: Ledger) -> FsckReport:
    """``fsck`` with the installation's key, in ``session`` (or a new one)."""
    if isinstance(session, sessionmaker):
        with session() as fresh:
            scope_to_tenant(fresh, ledger.tenant_id)
            return check(fresh, ledger)
    return fsck(
        session,
        ledger.tenant_id,
        verifier=signer_from_settings(ledger.cfg).verifier(),
        origin=origin_for(ledger.cfg.ledger_name, ledger.tenant_id),
    )


@contextmanager
def tampering(ledger: Ledger, table: str) -> Iterator[Session]:
    """A writer transaction with ``table``'s triggers lifted; always rolled back."""
    session = ledger.factory()
    try:
        begin_write(session)
        scope_to_tenant(session, ledger.tenant_id)
        with triggers_off(session, ledger.backend, table):
            yield session
    finally:
        session.rollback()
        session.close()


def replace_chars(value: str, positions: list[int], picks: list[int]) -> str:
    """``value`` with the character at each position replaced by a different one."""
    chars = list(value)
    for position, pick in zip(positions, picks, strict=False):
        where = position % len(chars)
        new = ALPHABET[pick % len(ALPHABET)]
        if new == value[where]:
            new = ALPHABET[(pick + 1) % len(ALPHABET)]
        chars[where] = new
    return "".join(chars)


def flip_bit(value: bytes, byte: int, bit: int) -> bytes:
    changed = bytearray(value)
    changed[byte % len(changed)] ^= 1 << bit
    return bytes(changed)


def stored_leaf(session: Session, ledger: Ledger, index: int) -> str:
    leaf = session.scalar(
        select(AuditEvent.leaf).where(
            AuditEvent.tenant_id == ledger.tenant_id, AuditEvent.seq == index
        )
    )
    assert leaf is not None
    return leaf


EDITS = st.lists(st.integers(0, 10_000), min_size=1, max_size=4, unique=True)


@EXAMPLES
@given(index=st.integers(0, 10_000), positions=EDITS, picks=st.lists(st.integers(0, 1000)))
def test_edited_leaf_bytes_are_named_by_index(
    ledger: Ledger, index: int, positions: list[int], picks: list[int]
) -> None:
    index %= ledger.size
    with tampering(ledger, "audit_events") as session:
        original = stored_leaf(session, ledger, index)
        forged = replace_chars(original, positions, picks + [0] * len(positions))
        session.execute(
            text("UPDATE audit_events SET leaf = :leaf WHERE tenant_id = :t AND seq = :s"),
            {"leaf": forged, "t": ledger.tenant_id, "s": index},
        )
        report = check(session, ledger)
    assert not report.ok
    assert report.first_bad_index == index, report.problems
    assert report.problems[0] == f"event {index}: its leaf does not hash to the stored leaf node"
    assert report.failing_checkpoint == ledger.first_checkpoint_after(index), report.problems
    with ledger.factory() as session:  # the rollback put it back
        scope_to_tenant(session, ledger.tenant_id)
        assert stored_leaf(session, ledger, index) == original


@EXAMPLES
@given(index=st.integers(0, 10_000))
def test_a_deleted_event_is_named_by_index(ledger: Ledger, index: int) -> None:
    index %= ledger.size
    with tampering(ledger, "audit_events") as session:
        session.execute(
            text("DELETE FROM audit_events WHERE tenant_id = :t AND seq = :s"),
            {"t": ledger.tenant_id, "s": index},
        )
        report = check(session, ledger)
    assert not report.ok
    assert report.first_bad_index == index, report.problems
    if index < ledger.size - 1:  # the gap is the first finding
        expected = f"event {index}: missing (the next stored event is {index + 1})"
        assert report.problems[0] == expected, report.problems
    else:  # the last one: the stored tree and the head are one leaf too long
        expected = f"head: size {ledger.size}, but {index} events are stored"
        assert expected in report.problems, report.problems
    assert report.failing_checkpoint == ledger.first_checkpoint_after(index), report.problems


@EXAMPLES
@given(node=st.integers(0, 10_000), byte=st.integers(0, 31), bit=st.integers(0, 7))
def test_a_changed_tree_node_is_named(ledger: Ledger, node: int, byte: int, bit: int) -> None:
    level, idx = ledger.nodes[node % len(ledger.nodes)]
    where = {"t": ledger.tenant_id, "l": level, "i": idx}
    with tampering(ledger, "ledger_nodes") as session:
        stored = session.scalar(
            text("SELECT hash FROM ledger_nodes WHERE tenant_id = :t AND level = :l AND idx = :i"),
            where,
        )
        session.execute(
            text(
                "UPDATE ledger_nodes SET hash = :h WHERE tenant_id = :t AND level = :l AND idx = :i"
            ),
            {**where, "h": flip_bit(bytes(stored), byte, bit)},
        )
        report = check(session, ledger)
    assert not report.ok
    if level == 0:
        assert report.first_bad_index == idx, report.problems
        assert report.problems[0] == f"event {idx}: its leaf does not hash to the stored leaf node"
    else:
        assert report.first_bad_index is None, report.problems
        assert report.problems[0].startswith(f"node ({level}, {idx}): not the hash of its children")
    assert report.failing_checkpoint is None, report.problems  # the signed roots still hold


@EXAMPLES
@given(
    pick=st.integers(0, 10_000),
    in_note=st.booleans(),
    positions=EDITS,
    picks=st.lists(st.integers(0, 1000)),
    byte=st.integers(0, 31),
    bit=st.integers(0, 7),
)
def test_a_changed_checkpoint_is_named_by_size(
    ledger: Ledger,
    pick: int,
    in_note: bool,
    positions: list[int],
    picks: list[int],
    byte: int,
    bit: int,
) -> None:
    size = ledger.checkpoints[pick % len(ledger.checkpoints)]
    where = {"t": ledger.tenant_id, "s": size}
    with tampering(ledger, "ledger_checkpoints") as session:
        note, root = session.execute(
            text(
                "SELECT note, root_hash FROM ledger_checkpoints WHERE tenant_id = :t AND size = :s"
            ),
            where,
        ).one()
        if in_note:
            forged = replace_chars(note, positions, picks + [0] * len(positions))
            statement = "UPDATE ledger_checkpoints SET note = :v WHERE tenant_id = :t AND size = :s"
            session.execute(text(statement), {**where, "v": forged})
        else:
            statement = (
                "UPDATE ledger_checkpoints SET root_hash = :v WHERE tenant_id = :t AND size = :s"
            )
            session.execute(text(statement), {**where, "v": flip_bit(bytes(root), byte, bit)})
        report = check(session, ledger)
    assert not report.ok
    assert report.failing_checkpoint == size, report.problems
    assert report.first_bad_index is None, report.problems
    named = f"checkpoint {size} (size {size}): "
    assert report.problems[0].startswith(named), report.problems
    problem = report.problems[0].removeprefix(named)
    if in_note:
        kinds = ("not a checkpoint note", "does not verify with the log's key", "origin ")
        assert problem.startswith(kinds), report.problems
    else:
        assert problem == "its root_hash column differs from the root its note signs"


@pytest.mark.parametrize("table", ["audit_events", "ledger_nodes", "ledger_checkpoints"])
def test_the_ledger_and_its_triggers_survive_the_examples(ledger: Ledger, table: str) -> None:
    report = check(ledger.factory, ledger)
    assert report.ok, report.problems
    assert report.events == ledger.size
    assert report.checked_checkpoints == ledger.checkpoints
    with ledger.factory() as session:
        scope_to_tenant(session, ledger.tenant_id)
        with pytest.raises(DBAPIError, match="insert-only"):
            session.execute(
                text(f"DELETE FROM {table} WHERE tenant_id = :t"),  # noqa: S608
                {"t": ledger.tenant_id},
            )
        session.rollback()
