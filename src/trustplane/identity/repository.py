"""Tenant-scoped queries of the identity domain. Cross-tenant ids look exactly like unknown ids."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.errors import NotFound
from trustplane.identity.models import (
    ApiToken,
    Binding,
    Environment,
    OidcIssuer,
    Principal,
    Tenant,
)

M = TypeVar("M", Tenant, Environment, Principal, ApiToken, Binding, OidcIssuer)


def get_scoped(session: Session, model: type[M], tenant_id: str, obj_id: str, what: str) -> M:
    """Load one row of ``tenant_id`` by id, or raise NotFound (also for other tenants' rows)."""
    obj = session.get(model, obj_id)
    if obj is None or getattr(obj, "tenant_id", getattr(obj, "id", None)) != tenant_id:
        raise NotFound(f"{what} '{obj_id}' not found")
    return obj


def tenant_by_name(session: Session, name: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.name == name))


def environment_by_name(session: Session, tenant_id: str, name: str) -> Environment:
    env = session.scalar(
        select(Environment).where(Environment.tenant_id == tenant_id, Environment.name == name)
    )
    if env is None:
        raise NotFound(f"environment '{name}' not found")
    return env


def principal_by_name(session: Session, tenant_id: str, name: str) -> Principal | None:
    return session.scalar(
        select(Principal).where(Principal.tenant_id == tenant_id, Principal.name == name)
    )


def active_bindings(session: Session, principal_id: str, now: datetime) -> Sequence[Binding]:
    """Bindings that grant something right now: not revoked and not expired."""
    return session.scalars(
        select(Binding).where(
            Binding.principal_id == principal_id,
            Binding.revoked_at.is_(None),
            (Binding.expires_at.is_(None)) | (Binding.expires_at > now),
        )
    ).all()
