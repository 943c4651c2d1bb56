"""Recording audit events inside the caller's transaction.

``record`` is how every state change and every denial leaves evidence. Each event is the next
leaf of its tenant's Merkle ledger: it takes the tenant's ``ledger_heads`` row under a lock held
until the caller's transaction ends (PostgreSQL row lock; SQLite database write lock), uses its
size as the sequence number, and stores the new frontier and the perfect subtrees the leaf
completes. Sequence numbers are therefore contiguous, and a rolled-back transaction leaves no
gap, no event and no node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, bindparam, insert, select, text, update
from sqlalchemy.orm import Session, make_transient_to_detached

from trustplane.audit import merkle
from trustplane.audit.canonical import canonical_json, rfc3339
from trustplane.audit.models import AuditEvent, LedgerHead, LedgerNode
from trustplane.db.base import UTCDateTime, new_id, utcnow

EVENT_FORMAT_VERSION = 1

# Built once: an append runs while the tenant's ledger is locked, so it skips statement
# construction and the ORM's unit of work.
_EVENTS, _HEADS, _NODES = (
    model.metadata.tables[model.__tablename__] for model in (AuditEvent, LedgerHead, LedgerNode)
)
_LOCK_HEAD = (
    select(_HEADS.c.size, _HEADS.c.frontier)
    .where(_HEADS.c.tenant_id == bindparam("tenant"))
    .with_for_update()
)
_UPDATE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.tenant_id == bindparam("tenant"))
    .values(size=bindparam("new_size"), frontier=bindparam("new_frontier"))
)
_EVENT_COLUMNS = tuple(_EVENTS.c.keys())
_INSERT_EVENT = insert(_EVENTS)
_INSERT_NODES = insert(_NODES)
# PostgreSQL: event, nodes and head in one statement (one round trip under the lock).
_PG_APPEND = text(
    f"WITH new_event AS (INSERT INTO audit_events ({', '.join(_EVENT_COLUMNS)})"  # noqa: S608
    f" VALUES ({', '.join(f':{column}' for column in _EVENT_COLUMNS)})),"
    " new_nodes AS (INSERT INTO ledger_nodes (tenant_id, level, idx, hash)"
    " SELECT :tenant_id, level, idx, hash FROM unnest(CAST(:levels AS smallint[]),"
    " CAST(:idxs AS bigint[]), CAST(:hashes AS bytea[])) AS node(level, idx, hash))"
    " UPDATE ledger_heads SET size = :new_size, frontier = :new_frontier"
    " WHERE tenant_id = :tenant"
).bindparams(bindparam("occurred_at", type_=UTCDateTime()))

Outcome = Literal["allowed", "denied"]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from; recorded on every event it causes."""

    correlation_id: str
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """What an event is about."""

    kind: str
    id: str
    name: str | None = None


class AuditActor(Protocol):
    """What the audit trail needs to know about whoever acted."""

    @property
    def principal_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def auth_method(self) -> str: ...
    @property
    def tenant_id(self) -> str | None: ...
    @property
    def origin(self) -> Origin: ...


@dataclass(frozen=True, slots=True)
class EventDetails:
    """Optional parts of an event, grouped so ``record`` keeps a short signature."""

    environment: str | None = None
    digests: Sequence[str] = ()
    intent: str | None = None
    reason: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


def record(
    session: Session,
    actor: AuditActor,
    action: str,
    target: Target,
    *,
    outcome: Outcome = "allowed",
    tenant_id: str | None = None,
    details: EventDetails | None = None,
) -> AuditEvent:
    """Append one event to the tenant's ledger in the caller's transaction and return it.

    Concurrent writers of a tenant queue for its ledger head until the holder commits, so the
    work done while holding it bounds the tenant's append rate: everything but the sequence
    number and the time is prepared before the lock is taken, and the writes go out as
    prebuilt Core statements.
    """
    tenant = tenant_id or actor.tenant_id
    if tenant is None:
        raise ValueError("an audit event needs a tenant")
    event, body = _prepare(actor, action, target, outcome, tenant, details or EventDetails())
    session.flush()  # the caller's pending changes go first, as a query's autoflush would
    connection = session.connection()
    head = _lock_head(connection, tenant)
    now = utcnow()
    body["seq"], body["time"] = head.size, rfc3339(now)
    leaf, data = _leaf_text(body)
    event.seq, event.occurred_at, event.leaf = head.size, now, leaf
    _append_leaf(connection, head, event, data)
    make_transient_to_detached(event)  # the row is written: attach it without a flush
    session.add(event)
    return event


def _prepare(
    actor: AuditActor,
    action: str,
    target: Target,
    outcome: Outcome,
    tenant: str,
    details: EventDetails,
) -> tuple[AuditEvent, dict[str, Any]]:
    """The event row and leaf body, but for the sequence number and the time."""
    event_id, origin = new_id("evt"), actor.origin
    event = AuditEvent(
        tenant_id=tenant,
        id=event_id,
        actor_id=actor.principal_id,
        action=action,
        target_kind=target.kind,
        target_id=target.id,
        outcome=outcome,
        correlation_id=origin.correlation_id,
    )
    body: dict[str, Any] = {
        "v": EVENT_FORMAT_VERSION,
        "id": event_id,
        "tenant": tenant,
        "seq": None,
        "time": None,
        "actor": {
            "id": actor.principal_id,
            "name": actor.name,
            "kind": actor.kind,
            "auth": actor.auth_method,
        },
        "environment": details.environment,
        "action": action,
        "target": {"kind": target.kind, "id": target.id, "name": target.name},
        "digests": list(details.digests),
        "outcome": outcome,
        "reason": details.reason,
        "correlation_id": origin.correlation_id,
        "intent": details.intent,
        "origin": {"ip": origin.ip, "user_agent": origin.user_agent},
        "payload": dict(details.payload),
    }
    return event, body


def _leaf_text(body: dict[str, Any]) -> tuple[str, bytes]:
    """The event's RFC 8785 canonical JSON, as text and as the UTF-8 leaf data."""
    data = canonical_json(body)
    return data.decode("utf-8"), data


def open_ledger(session: Session, tenant_id: str) -> None:
    """Create a tenant's ledger head; called once, when the tenant is created."""
    session.execute(insert(LedgerHead).values(tenant_id=tenant_id, size=0, frontier=b""))


@dataclass(slots=True)
class _Head:
    tenant_id: str
    size: int
    frontier: list[bytes]


def _lock_head(connection: Connection, tenant_id: str) -> _Head:
    """Read the ledger head under a row lock held until the transaction ends.

    PostgreSQL: ``FOR UPDATE`` queues concurrent appenders of the tenant here. SQLite: writers
    begin IMMEDIATE, so the database write lock already serialises them.
    """
    row = connection.execute(_LOCK_HEAD, {"tenant": tenant_id}).one()
    size = int(row.size)
    return _Head(tenant_id, size, merkle.deserialize_frontier(bytes(row.frontier), size))


def _append_leaf(connection: Connection, head: _Head, event: AuditEvent, leaf_data: bytes) -> None:
    """Store the event, the perfect nodes its leaf completes and the new head.

    PostgreSQL gets all three as one statement (data-modifying CTEs): each statement sent while
    the head is locked is a network round trip that every other writer of the tenant waits
    out. SQLite runs in process, where three statements cost about as much as one.
    """
    frontier, nodes = merkle.append(head.frontier, head.size, merkle.leaf_hash(leaf_data))
    new_head = {
        "tenant": head.tenant_id,
        "new_size": head.size + 1,
        "new_frontier": merkle.serialize_frontier(frontier),
    }
    row = {column: getattr(event, column) for column in _EVENT_COLUMNS}
    if connection.dialect.name == "postgresql":
        levels, indices, hashes = (list(column) for column in zip(*nodes, strict=True))
        connection.execute(
            _PG_APPEND, {**row, **new_head, "levels": levels, "idxs": indices, "hashes": hashes}
        )
    else:
        connection.execute(_INSERT_EVENT, row)
        connection.execute(_UPDATE_HEAD, new_head)
        connection.execute(
            _INSERT_NODES,
            [
                {"tenant_id": head.tenant_id, "level": level, "idx": idx, "hash": digest}
                for level, idx, digest in nodes
            ],
        )
    head.size += 1
    head.frontier = frontier
