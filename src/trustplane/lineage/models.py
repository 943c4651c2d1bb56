"""Lineage tables of our own: the OpenLineage events received (the graph itself is the
registry's ``lineage_edges``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trustplane.db.base import Base, JSONType


class OpenLineageEvent(Base):
    """One OpenLineage RunEvent as received, kept verbatim; insert-only.

    The unique key is OpenLineage's own idempotency key, (runId, eventType, eventTime): the
    client retries on 5xx, so the same event may arrive twice and must count once. An event
    without eventType (allowed by the spec) is keyed with an empty type.
    """

    __tablename__ = "openlineage_events"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "run_uuid", "event_type", "event_time", name="uq_openlineage_events_key"
        ),
        Index("ix_openlineage_events_tenant_run", "tenant_id", "run_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    run_uuid: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(16))
    event_time: Mapped[datetime]
    job_namespace: Mapped[str] = mapped_column(String(500))
    job_name: Mapped[str] = mapped_column(String(500))
    producer: Mapped[str] = mapped_column(String(2000))
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"))
    body_sha256: Mapped[str] = mapped_column(String(64))
    event: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # The dataset version ids the event's inputs and outputs became (for replies to retries).
    inputs: Mapped[list[str]] = mapped_column(JSONType)
    outputs: Mapped[list[str]] = mapped_column(JSONType)
    received_at: Mapped[datetime]
    received_by: Mapped[str] = mapped_column(String(64))
