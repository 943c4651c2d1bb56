"""Audit trail routes: list and filter the tenant's events."""

from __future__ import annotations

from fastapi import Depends, Query
from pydantic import AwareDatetime
from sqlalchemy.orm import Session

from trustplane.api.deps import Cursor, Limit, Require, get_session
from trustplane.api.routing import domain_router
from trustplane.audit.schemas import AuditEventFilter, AuditEventRead
from trustplane.audit.service import list_events
from trustplane.identity.actor import Actor
from trustplane.identity.roles import Permission
from trustplane.paging import Page

router = domain_router(tags=["audit"])


@router.get("/audit/events")
def audit_events(
    actor: Actor = Require(Permission.AUDIT_READ),
    session: Session = Depends(get_session),
    actor_id: str | None = Query(default=None, alias="actor", max_length=64),
    action: str | None = Query(default=None, max_length=64),
    target_kind: str | None = Query(default=None, max_length=40),
    target_id: str | None = Query(default=None, max_length=200),
    correlation_id: str | None = Query(default=None, max_length=128),
    outcome: str | None = Query(default=None, pattern="^(allowed|denied)$"),
    since: AwareDatetime | None = Query(default=None),
    until: AwareDatetime | None = Query(default=None),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[AuditEventRead]:
    """Events in ledger order (oldest first); the cursor is the last sequence number seen."""
    filters = AuditEventFilter(
        actor=actor_id,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        correlation_id=correlation_id,
        outcome=outcome,
        since=since,
        until=until,
    )
    items, nxt = list_events(session, actor, filters, cursor, limit)
    return Page(items=items, next_cursor=nxt)
