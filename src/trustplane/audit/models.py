"""Audit tables. ``audit_events`` is insert-only: triggers in the migration refuse changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trustplane.db.base import Base


class AuditEvent(Base):
    """One event = one future ledger leaf. ``leaf`` holds its exact canonical JSON text."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_tenant_action", "tenant_id", "action"),
        Index("ix_audit_events_tenant_actor", "tenant_id", "actor_id"),
        Index("ix_audit_events_tenant_target", "tenant_id", "target_kind", "target_id"),
        Index("ix_audit_events_tenant_correlation", "tenant_id", "correlation_id"),
        Index("ix_audit_events_tenant_time", "tenant_id", "occurred_at"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    occurred_at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16))
    correlation_id: Mapped[str] = mapped_column(String(128))
    leaf: Mapped[str] = mapped_column(Text)


class LedgerHead(Base):
    """The next free sequence number of a tenant's ledger; its row lock serialises appends."""

    __tablename__ = "ledger_heads"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
