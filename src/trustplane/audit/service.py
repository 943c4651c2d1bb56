"""Reading the trail on behalf of an actor: always the actor's own tenant."""

from __future__ import annotations

from sqlalchemy.orm import Session

from trustplane.audit import repository
from trustplane.audit.events import AuditActor
from trustplane.audit.schemas import AuditEventFilter, AuditEventRead
from trustplane.errors import InvalidInput


def list_events(
    session: Session,
    actor: AuditActor,
    filters: AuditEventFilter,
    cursor: str | None,
    limit: int,
) -> tuple[list[AuditEventRead], str | None]:
    """One page of the actor's tenant's events; the cursor is the last sequence number seen."""
    if actor.tenant_id is None:
        raise InvalidInput("the audit trail is per tenant; this actor has none")
    after = _parse_cursor(cursor)
    items = repository.list_events(
        session, actor.tenant_id, filters, after_seq=after, limit=limit + 1
    )
    if len(items) > limit:
        return items[:limit], str(items[limit - 1].seq)
    return items, None


def _parse_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit():
        raise InvalidInput("cursor must be a sequence number from a previous page")
    return int(cursor)
