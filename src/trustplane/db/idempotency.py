"""Stored outcomes of POST requests sent with an ``Idempotency-Key``.

A record is written in the same transaction as the change it describes, so either both exist
or neither. Keys are scoped to the principal that sent them. Responses that carry a secret
are recorded without their body: the secret is never stored, and a replay says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from trustplane.db.base import Base, utcnow


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    principal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    tenant_id: str
    principal_id: str
    key: str
    method: str
    path: str
    request_hash: str


def find(session: Session, req: IdempotentRequest) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.tenant_id == req.tenant_id,
            IdempotencyRecord.principal_id == req.principal_id,
            IdempotencyRecord.key == req.key,
        )
    )


def same_request(record: IdempotencyRecord, req: IdempotentRequest) -> bool:
    return (record.method, record.path, record.request_hash) == (
        req.method,
        req.path,
        req.request_hash,
    )


def save(session: Session, req: IdempotentRequest, status_code: int, body: str | None) -> None:
    session.add(
        IdempotencyRecord(
            tenant_id=req.tenant_id,
            principal_id=req.principal_id,
            key=req.key,
            method=req.method,
            path=req.path,
            request_hash=req.request_hash,
            status_code=status_code,
            body=body,
            created_at=utcnow(),
        )
    )
    session.flush()
