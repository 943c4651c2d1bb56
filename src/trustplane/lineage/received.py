"""The OpenLineage events received, as they came: listed and read back for investigations
("what did the pipeline actually report, and when?")."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor
from trustplane.db.pagination import keyset_page
from trustplane.errors import NotFound
from trustplane.lineage.models import OpenLineageEvent
from trustplane.lineage.schemas import ReceivedEventRead
from trustplane.registry.repository import tenant_of


def page(
    session: Session,
    actor: AuditActor,
    *,
    run_uuid: str | None = None,
    job_namespace: str | None = None,
    job_name: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[ReceivedEventRead], str | None]:
    """Events in the order received, filtered by OpenLineage runId or job."""
    query = select(OpenLineageEvent).where(OpenLineageEvent.tenant_id == tenant_of(actor))
    if run_uuid is not None:
        query = query.where(OpenLineageEvent.run_uuid == run_uuid)
    if job_namespace is not None:
        query = query.where(OpenLineageEvent.job_namespace == job_namespace)
    if job_name is not None:
        query = query.where(OpenLineageEvent.job_name == job_name)
    rows, nxt = keyset_page(session, query, OpenLineageEvent.id, cursor, limit)
    return [_read(r) for r in rows], nxt


def get(session: Session, actor: AuditActor, event_id: str) -> ReceivedEventRead:
    row = session.get(OpenLineageEvent, event_id)
    if row is None or row.tenant_id != tenant_of(actor):
        raise NotFound(f"OpenLineage event {event_id} not found")
    found = _read(row)
    found.event = dict(row.event)
    return found


def _read(row: OpenLineageEvent) -> ReceivedEventRead:
    read = ReceivedEventRead.model_validate(row)
    read.event = None
    read.event_type = row.event_type or None
    return read
