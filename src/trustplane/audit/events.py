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

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from trustplane.audit import merkle
from trustplane.audit.canonical import canonical_json, rfc3339
from trustplane.audit.models import AuditEvent, LedgerHead, LedgerNode
from trustplane.db.base import new_id, utcnow

EVENT_FORMAT_VERSION = 1

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
    """Append one event to the tenant's ledger in the caller's transaction and return it."""
    tenant = tenant_id or actor.tenant_id
    if tenant is None:
        raise ValueError("an audit event needs a tenant")
    details = details or EventDetails()
    head = _lock_head(session, tenant)
    seq = head.size
    now = utcnow()
    event_id = new_id("evt")
    body = {
        "v": EVENT_FORMAT_VERSION,
        "id": event_id,
        "tenant": tenant,
        "seq": seq,
        "time": rfc3339(now),
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
        "correlation_id": actor.origin.correlation_id,
        "intent": details.intent,
        "origin": {"ip": actor.origin.ip, "user_agent": actor.origin.user_agent},
        "payload": dict(details.payload),
    }
    event = AuditEvent(
        tenant_id=tenant,
        seq=seq,
        id=event_id,
        occurred_at=now,
        actor_id=actor.principal_id,
        action=action,
        target_kind=target.kind,
        target_id=target.id,
        outcome=outcome,
        correlation_id=actor.origin.correlation_id,
        leaf=canonical_json(body).decode("utf-8"),
    )
    session.add(event)
    _append_leaf(session, head, event.leaf.encode("utf-8"))
    session.flush()
    return event


def open_ledger(session: Session, tenant_id: str) -> None:
    """Create a tenant's ledger head; called once, when the tenant is created."""
    session.execute(insert(LedgerHead).values(tenant_id=tenant_id, size=0, frontier=b""))


@dataclass(slots=True)
class _Head:
    tenant_id: str
    size: int
    frontier: list[bytes]


def _lock_head(session: Session, tenant_id: str) -> _Head:
    """Read the ledger head under a row lock held until the transaction ends.

    PostgreSQL: ``FOR UPDATE`` queues concurrent appenders of the tenant here. SQLite: writers
    begin IMMEDIATE, so the database write lock already serialises them.
    """
    row = session.execute(
        select(LedgerHead.size, LedgerHead.frontier)
        .where(LedgerHead.tenant_id == tenant_id)
        .with_for_update()
    ).one()
    size = int(row.size)
    return _Head(tenant_id, size, merkle.deserialize_frontier(bytes(row.frontier), size))


def _append_leaf(session: Session, head: _Head, leaf_data: bytes) -> None:
    """Add the leaf's hash to the tree: new frontier in the head, new perfect nodes stored."""
    frontier, nodes = merkle.append(head.frontier, head.size, merkle.leaf_hash(leaf_data))
    session.execute(
        update(LedgerHead)
        .where(LedgerHead.tenant_id == head.tenant_id)
        .values(size=head.size + 1, frontier=merkle.serialize_frontier(frontier))
    )
    session.execute(
        insert(LedgerNode),
        [
            {"tenant_id": head.tenant_id, "level": level, "idx": idx, "hash": digest}
            for level, idx, digest in nodes
        ],
    )
    head.size += 1
    head.frontier = frontier
