"""Reading a tenant's Merkle ledger: tree heads and RFC 9162 proofs from stored nodes.

Nothing here rehashes the log. The head row's frontier gives the current root; any older root
and any proof needs only O(log n) perfect-subtree hashes (``ledger_nodes``), fetched in one
query. Results use RFC 9162 semantics: 0-based leaf indices, tree sizes in leaves, and audit
paths and consistency proofs in the order ``merkle.py`` produces (the RFC's order), so any RFC
verifier accepts them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, bindparam, or_, select, text
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


# Built once: proofs are read often and are small, so building and compiling statements would
# cost more than running them.
_HEADS, _NODES, _EVENTS = (
    model.metadata.tables[model.__tablename__] for model in (LedgerHead, LedgerNode, AuditEvent)
)
_HEAD = select(_HEADS.c.size, _HEADS.c.frontier).where(_HEADS.c.tenant_id == bindparam("tenant"))
_LOCKED_HEAD = _HEAD.with_for_update()


def _head_with_event(*where: ColumnElement[bool]) -> Select[int, int, str, str]:
    """The head row's size beside one event of the same tenant (NULLs if there is none)."""
    event = and_(_EVENTS.c.tenant_id == _HEADS.c.tenant_id, *where)
    return (
        select(_HEADS.c.size, _EVENTS.c.seq, _EVENTS.c.id, _EVENTS.c.leaf)
        .select_from(_HEADS.outerjoin(_EVENTS, event))
        .where(_HEADS.c.tenant_id == bindparam("tenant"))
    )


_HEAD_AND_EVENT_BY_SEQ = _head_with_event(_EVENTS.c.seq == bindparam("seq"))
_HEAD_AND_EVENT_BY_ID = _head_with_event(_EVENTS.c.id == bindparam("event_id"))
# PostgreSQL: one short statement for any number of nodes, so the driver keeps it prepared and
# the server plans it once: a primary-key lookup per (level, index) pair of the arrays.
_PG_NODES = text(
    "SELECT node.level, node.idx, node.hash FROM unnest(CAST(:levels AS smallint[]),"
    " CAST(:idxs AS bigint[])) AS wanted(level, idx) JOIN ledger_nodes AS node"
    " ON node.tenant_id = :tenant AND node.level = wanted.level AND node.idx = wanted.idx"
)
_NODES_STEP = 16  # SQLite node queries come in sizes of multiples of this (see _nodes_query)


def tree_head(session: Session, tenant_id: str, *, lock: bool = False) -> tuple[int, bytes]:
    """The ledger's current size and root, from the head row's frontier (no node is read).

    ``lock`` takes the head row lock (PostgreSQL) until the transaction ends, so the size
    cannot move until then; appends wait for it.
    """
    query = _LOCKED_HEAD if lock else _HEAD
    row = session.execute(query, {"tenant": tenant_id}).one_or_none()
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
    if session.get_bind().dialect.name == "postgresql":
        levels, indices = ([node[k] for node in wanted] for k in (0, 1))
        rows = session.execute(_PG_NODES, {"tenant": tenant_id, "levels": levels, "idxs": indices})
    else:  # padded with repeats of the last node, so that a few statement shapes serve all
        count = -(-len(wanted) // _NODES_STEP) * _NODES_STEP
        padded = wanted + wanted[-1:] * (count - len(wanted))
        params: dict[str, object] = {"tenant": tenant_id}
        for k, (level, idx) in enumerate(padded):
            params[f"l{k}"], params[f"i{k}"] = level, idx
        rows = session.execute(_nodes_query(count), params)
    found = {(int(level), int(idx)): bytes(digest) for level, idx, digest in rows}
    missing = [node for node in wanted if node not in found]
    if missing:
        level, idx = missing[0]
        raise LedgerCorruption(
            f"tenant {tenant_id}: {len(missing)} ledger node(s) missing, e.g. level {level} "
            f"index {idx}"
        )
    return found


@functools.cache
def _nodes_query(count: int) -> Select[int, int, bytes]:
    """SQLite: ``count`` stored nodes, one primary-key lookup each, as every branch names the
    whole key (a row-value IN list, or a tenant condition shared by the branches, makes SQLite
    scan all of the tenant's nodes). Built and compiled once per count, a multiple of
    ``_NODES_STEP``; a proof reads at most about 2 log2(n) nodes."""
    branches = [
        and_(
            _NODES.c.tenant_id == bindparam("tenant"),
            _NODES.c.level == bindparam(f"l{k}"),
            _NODES.c.idx == bindparam(f"i{k}"),
        )
        for k in range(count)
    ]
    return select(_NODES.c.level, _NODES.c.idx, _NODES.c.hash).where(or_(*branches))


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
    current, event = _head_and_event(session, tenant_id, index, event_id)
    size = current if tree_size is None else tree_size
    _check_tree_size(size, current)
    if event_id is not None:
        if event is None:
            raise NotFound(f"no audit event {event_id}")
        index = event[0]
        if index >= size:
            raise InvalidInput(
                f"event {event_id} is leaf {index}, outside the tree of size {size}",
                index=index,
            )
    assert index is not None
    if not 0 <= index < size:
        raise InvalidInput(f"leaf index {index} is outside the tree of size {size}")
    if event is None:
        raise LedgerCorruption(f"tenant {tenant_id}: the event of leaf {index} is missing")
    found_id, leaf = event[1], event[2].encode("utf-8")
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


def _head_and_event(
    session: Session, tenant_id: str, index: int | None, event_id: str | None
) -> tuple[int, tuple[int, str, str] | None]:
    """The ledger's size and the event (seq, id, leaf) named by index or id, in one query."""
    if event_id is not None:
        row = session.execute(_HEAD_AND_EVENT_BY_ID, {"tenant": tenant_id, "event_id": event_id})
    else:  # an index no BIGINT can hold names no event; the caller's range check reports it
        seq = index if index is not None and 0 <= index < 2**63 else -1
        row = session.execute(_HEAD_AND_EVENT_BY_SEQ, {"tenant": tenant_id, "seq": seq})
    found = row.one_or_none()
    if found is None:
        raise NotFound(f"tenant {tenant_id} has no ledger")
    if found.id is None:
        return int(found.size), None
    return int(found.size), (int(found.seq), str(found.id), str(found.leaf))
