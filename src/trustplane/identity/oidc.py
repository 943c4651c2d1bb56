"""OIDC workload identity (placeholder until the OIDC module lands in this change)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from trustplane.errors import Unauthenticated
from trustplane.identity.models import Principal


def resolve_workload(session: Session, jwt: str, now: datetime, leeway_seconds: int) -> Principal:
    raise Unauthenticated("OIDC workload identity is not configured")
