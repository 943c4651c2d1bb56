"""Reading the audit trail: tenant-scoped, filtered, paginated by sequence number."""

from __future__ import annotations

import orjson
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from trustplane.audit.models import AuditEvent
from trustplane.audit.schemas import AuditEventFilter, AuditEventRead


def list_events(
    session: Session,
    tenant_id: str,
    filters: AuditEventFilter,
    *,
    after_seq: int | None,
    limit: int,
) -> list[AuditEventRead]:
    """Events of one tenant in ledger order, after ``after_seq`` (exclusive)."""
    query = _filtered(select(AuditEvent.leaf).where(AuditEvent.tenant_id == tenant_id), filters)
    if after_seq is not None:
        query = query.where(AuditEvent.seq > after_seq)
    rows = session.scalars(query.order_by(AuditEvent.seq).limit(limit))
    return [AuditEventRead.model_validate(orjson.loads(leaf)) for leaf in rows]


def _filtered(query: Select[str], f: AuditEventFilter) -> Select[str]:
    if f.actor is not None:
        query = query.where(AuditEvent.actor_id == f.actor)
    if f.action is not None:
        query = query.where(AuditEvent.action == f.action)
    if f.target_kind is not None:
        query = query.where(AuditEvent.target_kind == f.target_kind)
    if f.target_id is not None:
        query = query.where(AuditEvent.target_id == f.target_id)
    if f.correlation_id is not None:
        query = query.where(AuditEvent.correlation_id == f.correlation_id)
    if f.outcome is not None:
        query = query.where(AuditEvent.outcome == f.outcome)
    if f.since is not None:
        query = query.where(AuditEvent.occurred_at >= f.since)
    if f.until is not None:
        query = query.where(AuditEvent.occurred_at < f.until)
    return query
