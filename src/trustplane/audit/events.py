"""Recording audit events inside the caller's transaction.

``record`` is how every state change and every denial leaves evidence. It allocates the next
sequence number of the tenant's ledger by incrementing the tenant's ``ledger_heads`` row: the
row lock (PostgreSQL) or the database write lock (SQLite) is held until the caller's
transaction ends, so sequence numbers are contiguous and a rolled-back transaction leaves no
gap and no event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from trustplane.audit.canonical import canonical_json, rfc3339
from trustplane.audit.models import AuditEvent, LedgerHead
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
    seq = _next_seq(session, tenant)
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
    session.flush()
    return event


def open_ledger(session: Session, tenant_id: str) -> None:
    """Create a tenant's ledger head; called once, when the tenant is created."""
    session.execute(insert(LedgerHead).values(tenant_id=tenant_id, size=0))


def _next_seq(session: Session, tenant_id: str) -> int:
    size = session.execute(
        update(LedgerHead)
        .where(LedgerHead.tenant_id == tenant_id)
        .values(size=LedgerHead.size + 1)
        .returning(LedgerHead.size)
    ).scalar_one()
    return int(size) - 1
