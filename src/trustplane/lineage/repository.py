"""Tenant-scoped storage of received OpenLineage events, and the per-run ingest lock."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from trustplane.db.session import is_postgres
from trustplane.lineage.models import OpenLineageEvent
from trustplane.registry.models import DatasetVersion, LineageEdge


def lock_run(session: Session, tenant_id: str, run_uuid: str) -> None:
    """Serialise the ingest of events of one run until the transaction ends.

    Two events of a new run (START and COMPLETE sent close together, or a retry racing the
    original) must not both create the run. PostgreSQL: a transaction-level advisory lock on a
    64-bit hash of (tenant, runId). SQLite: nothing to do, since writers begin IMMEDIATE and
    so already hold the database write lock.
    """
    if not is_postgres(session):
        return
    digest = hashlib.sha256(f"openlineage:{tenant_id}:{run_uuid}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def find_event(
    session: Session, tenant_id: str, run_uuid: str, event_type: str, event_time: datetime
) -> OpenLineageEvent | None:
    """The event already received with this idempotency key, if any."""
    return session.scalar(
        select(OpenLineageEvent).where(
            OpenLineageEvent.tenant_id == tenant_id,
            OpenLineageEvent.run_uuid == run_uuid,
            OpenLineageEvent.event_type == event_type,
            OpenLineageEvent.event_time == event_time,
        )
    )


def run_input_of_dataset(
    session: Session, tenant_id: str, run_id: str, dataset_id: str
) -> str | None:
    """The version of ``dataset_id`` that the run already records as an input, if any."""
    return session.scalar(
        select(DatasetVersion.id)
        .join(LineageEdge, LineageEdge.source_id == DatasetVersion.id)
        .where(
            LineageEdge.tenant_id == tenant_id,
            LineageEdge.target_id == run_id,
            LineageEdge.relation == "input",
            DatasetVersion.dataset_id == dataset_id,
        )
        .order_by(DatasetVersion.id.desc())
        .limit(1)
    )


def latest_version(
    session: Session, tenant_id: str, dataset_id: str, not_from_run: str | None
) -> str | None:
    """The newest version of a dataset (ids sort by creation), skipping the run's outputs."""
    query = select(DatasetVersion.id).where(
        DatasetVersion.tenant_id == tenant_id, DatasetVersion.dataset_id == dataset_id
    )
    if not_from_run is not None:
        edge = LineageEdge.__table__.c
        outputs = select(edge.target_id).where(
            edge.tenant_id == tenant_id, edge.source_id == not_from_run, edge.relation == "output"
        )
        query = query.where(DatasetVersion.id.not_in(outputs))
    newest = query.order_by(DatasetVersion.created_at.desc(), DatasetVersion.id.desc())
    return session.scalar(newest.limit(1))
