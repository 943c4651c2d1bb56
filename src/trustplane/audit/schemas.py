"""Audit event shapes on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class EventActor(BaseModel):
    id: str
    name: str
    kind: str
    auth: str


class EventTarget(BaseModel):
    kind: str
    id: str
    name: str | None = None


class EventOrigin(BaseModel):
    ip: str | None = None
    user_agent: str | None = None


class AuditEventRead(BaseModel):
    """An event exactly as recorded in its ledger leaf."""

    model_config = ConfigDict(frozen=True)

    v: int
    id: str
    tenant: str
    seq: int
    time: datetime
    actor: EventActor
    environment: str | None
    action: str
    target: EventTarget
    digests: list[str]
    outcome: str
    reason: str | None
    correlation_id: str
    intent: str | None
    origin: EventOrigin
    payload: dict[str, Any]


class AuditEventFilter(BaseModel):
    """Filters for listing events; all optional, combined with AND."""

    model_config = ConfigDict(extra="forbid")

    actor: str | None = None
    action: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    correlation_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
