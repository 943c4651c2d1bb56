"""Audit tables. ``audit_events`` is insert-only: triggers in the migration refuse changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, SmallInteger, String, Text
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
    """A tenant ledger's size and right frontier; its row lock serialises appends.

    ``frontier`` is the compact range of the tree (the hashes of the perfect subtrees of the
    binary decomposition of ``size``), so the root and the next append need no other read.
    """

    __tablename__ = "ledger_heads"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"", server_default="")


class LedgerNode(Base):
    """The hash of one perfect subtree: level 0 holds leaf hashes; insert-only.

    The node at (level k, index j) covers leaves ``[j * 2**k, (j + 1) * 2**k)``. Any root or
    proof needs O(log n) of these, so nothing ever rehashes the log.
    """

    __tablename__ = "ledger_nodes"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerCheckpoint(Base):
    """A signed tree head (C2SP checkpoint note) of a tenant's ledger; insert-only."""

    __tablename__ = "ledger_checkpoints"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
