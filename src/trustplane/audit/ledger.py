"""Reading a tenant's Merkle ledger: tree heads and RFC 9162 proofs from stored nodes.

Nothing here rehashes the log. The head row's frontier gives the current root; any older root
and any proof needs only O(log n) perfect-subtree hashes (``ledger_nodes``), fetched in one
query. Results use RFC 9162 semantics: 0-based leaf indices, tree sizes in leaves, and audit
paths and consistency proofs in the order ``merkle.py`` produces (the RFC's order), so any RFC
verifier accepts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from trustplane.audit import merkle
from trustplane.audit.merkle import NodeId
from trustplane.audit.models import AuditEvent, LedgerHead, LedgerNode
from trustplane.errors import InvalidInput, NotFound


class LedgerCorruption(RuntimeError):
    """A node the tree needs is missing from the store: the database was damaged or edited."""


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Leaf ``index`` (event ``event_id``, exact leaf data ``leaf``) is in the tree of
    ``tree_size`` leaves whose root is ``root``; ``audit_path`` proves it (RFC 9162 2.1.3)."""

    event_id: str
    index: int
    tree_size: int
    leaf: bytes
    leaf_hash: bytes
    audit_path: list[bytes]
    root: bytes


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """The tree of ``first`` leaves is a prefix of the tree of ``second`` (RFC 9162 2.1.4)."""

    first: int
    second: int
    proof: list[bytes]
    first_root: bytes
    second_root: bytes


def tree_head(session: Session, tenant_id: str, *, lock: bool = False) -> tuple[int, bytes]:
    """The ledger's current size and root, from the head row's frontier (no node is read).

    ``lock`` takes the head row lock (PostgreSQL) until the transaction ends, so the size
    cannot move until then; appends wait for it.
    """
    query = select(LedgerHead.size, LedgerHead.frontier).where(LedgerHead.tenant_id == tenant_id)
    row = session.execute(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise NotFound(f"tenant {tenant_id} has no ledger")
    size = int(row.size)
    return size, merkle.root(merkle.deserialize_frontier(bytes(row.frontier), size), size)


def fetch_nodes(session: Session, tenant_id: str, coords: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """The stored hashes of the perfect subtrees ``coords`` (``(level, index)``), in one query.

    Raises LedgerCorruption if any is missing: the tree of a committed size always has them.
    """
    wanted = sorted(set(coords))
    if not wanted:
        return {}
    rows = session.execute(
        select(LedgerNode.level, LedgerNode.idx, LedgerNode.hash).where(
            LedgerNode.tenant_id == tenant_id,
            tuple_(LedgerNode.level, LedgerNode.idx).in_(wanted),
        )
    )
    found = {(int(level), int(idx)): bytes(digest) for level, idx, digest in rows}
    missing = [node for node in wanted if node not in found]
    if missing:
        level, idx = missing[0]
        raise LedgerCorruption(
            f"tenant {tenant_id}: {len(missing)} ledger node(s) missing, e.g. level {level} "
            f"index {idx}"
        )
    return found


def inclusion(
    session: Session,
    tenant_id: str,
    *,
    index: int | None = None,
    event_id: str | None = None,
    tree_size: int | None = None,
) -> InclusionProof:
    """The audit path of one event, named by leaf index or by event id, in the tree of
    ``tree_size`` leaves (default: the current size)."""
    if (index is None) == (event_id is None):
        raise InvalidInput("name the event by exactly one of index or event_id")
    current, _ = tree_head(session, tenant_id)
    size = current if tree_size is None else tree_size
    _check_tree_size(size, current)
    if event_id is not None:
        index = _index_of(session, tenant_id, event_id)
        if index >= size:
            raise InvalidInput(
                f"event {event_id} is leaf {index}, outside the tree of size {size}",
                index=index,
            )
    assert index is not None
    if not 0 <= index < size:
        raise InvalidInput(f"leaf index {index} is outside the tree of size {size}")
    found_id, leaf = _leaf(session, tenant_id, index)
    nodes = fetch_nodes(
        session,
        tenant_id,
        [(0, index), *merkle.inclusion_nodes(index, size), *merkle.root_nodes(size)],
    )
    return InclusionProof(
        event_id=found_id,
        index=index,
        tree_size=size,
        leaf=leaf,
        leaf_hash=nodes[(0, index)],
        audit_path=merkle.inclusion_proof(index, size, nodes),
        root=merkle.root_at(size, nodes),
    )


def consistency(session: Session, tenant_id: str, first: int, second: int) -> ConsistencyProof:
    """The proof that the tree of ``first`` leaves is a prefix of the tree of ``second``.

    Needs ``0 < first <= second <= current size``: every tree extends the empty one, so a
    proof from size 0 would prove nothing; equal sizes take an empty proof.
    """
    current, _ = tree_head(session, tenant_id)
    if first <= 0:
        raise InvalidInput(f"first must be at least 1 (every tree extends the empty one): {first}")
    if first > second:
        raise InvalidInput(f"first ({first}) is larger than second ({second}); logs never shrink")
    _check_tree_size(second, current)
    nodes = fetch_nodes(
        session,
        tenant_id,
        [
            *merkle.consistency_nodes(first, second),
            *merkle.root_nodes(first),
            *merkle.root_nodes(second),
        ],
    )
    return ConsistencyProof(
        first=first,
        second=second,
        proof=merkle.consistency_proof(first, second, nodes),
        first_root=merkle.root_at(first, nodes),
        second_root=merkle.root_at(second, nodes),
    )


def _check_tree_size(size: int, current: int) -> None:
    if size <= 0:
        raise InvalidInput(f"tree size must be at least 1, got {size}")
    if size > current:
        raise InvalidInput(f"tree size {size} is larger than the ledger ({current} leaves)")


def _index_of(session: Session, tenant_id: str, event_id: str) -> int:
    seq = session.scalar(
        select(AuditEvent.seq).where(AuditEvent.tenant_id == tenant_id, AuditEvent.id == event_id)
    )
    if seq is None:
        raise NotFound(f"no audit event {event_id}")
    return int(seq)


def _leaf(session: Session, tenant_id: str, index: int) -> tuple[str, bytes]:
    row = session.execute(
        select(AuditEvent.id, AuditEvent.leaf).where(
            AuditEvent.tenant_id == tenant_id, AuditEvent.seq == index
        )
    ).one_or_none()
    if row is None:
        raise LedgerCorruption(f"tenant {tenant_id}: the event of leaf {index} is missing")
    return str(row.id), str(row.leaf).encode("utf-8")
