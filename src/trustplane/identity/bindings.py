"""Role bindings: who holds which role, where, until when, granted by whom and why.

Separation-of-duties hooks live here: nobody grants themselves a role, and sensitive roles
(release approval, risk, administration) need ``access.admin`` rather than ``access.grant``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import Target, record
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id, utcnow
from trustplane.db.pagination import keyset_page
from trustplane.errors import Conflict, Forbidden, InvalidInput
from trustplane.identity.actor import Actor
from trustplane.identity.models import Binding, Environment, Principal
from trustplane.identity.repository import environment_by_name, get_scoped
from trustplane.identity.roles import SENSITIVE_ROLES, TENANT_WIDE_ROLES, Permission, Role
from trustplane.identity.schemas import BindingCreate, BindingRead


def permission_to_manage(role: Role) -> Permission:
    """Which permission granting or revoking ``role`` takes."""
    if role is Role.PLATFORM_ADMIN:
        return Permission.TENANT_ADMIN
    return Permission.ACCESS_ADMIN if role in SENSITIVE_ROLES else Permission.ACCESS_GRANT


def grant(session: Session, actor: Actor, data: BindingCreate) -> BindingRead:
    tenant_id = actor.tenant_id or ""
    if data.principal_id == actor.principal_id:
        raise Forbidden(
            "you cannot grant a role to yourself (separation of duties)",
            action="binding.grant",
            target_kind="principal",
            target_id=data.principal_id,
            role=data.role.value,
        )
    actor.require(
        permission_to_manage(data.role), target_kind="principal", target_id=data.principal_id
    )
    principal = get_scoped(session, Principal, tenant_id, data.principal_id, "principal")
    if principal.disabled_at is not None:
        raise Conflict(f"principal '{principal.name}' is disabled")
    env = _environment(session, tenant_id, data)
    _check_expiry(data.expires_at)
    duplicate = session.scalar(
        select(Binding.id).where(
            Binding.tenant_id == tenant_id,
            Binding.principal_id == principal.id,
            Binding.role == data.role.value,
            Binding.environment_id.is_(None) if env is None else Binding.environment_id == env.id,
            Binding.revoked_at.is_(None),
            (Binding.expires_at.is_(None)) | (Binding.expires_at > utcnow()),
        )
    )
    if duplicate is not None:
        raise Conflict(f"'{principal.name}' already holds '{data.role}' here ({duplicate})")
    binding = add_binding(
        session,
        actor,
        principal,
        data.role,
        env,
        expires_at=data.expires_at,
        reason=data.reason,
    )
    return BindingRead.model_validate(binding)


def add_binding(
    session: Session,
    actor: Actor,
    principal: Principal,
    role: Role,
    env: Environment | None,
    *,
    expires_at: datetime | None,
    reason: str,
) -> Binding:
    """Create a binding and its audit event; the caller has checked who may grant it."""
    binding = Binding(
        id=new_id("bnd"),
        tenant_id=principal.tenant_id,
        principal_id=principal.id,
        role=role.value,
        environment_id=env.id if env else None,
        expires_at=expires_at,
        reason=reason,
        granted_by=actor.principal_id,
        created_at=utcnow(),
    )
    session.add(binding)
    session.flush()
    record(
        session,
        actor,
        "binding.grant",
        Target("binding", binding.id, role.value),
        tenant_id=principal.tenant_id,
        details=EventDetails(
            environment=env.name if env else None,
            reason=reason,
            payload={
                "principal_id": principal.id,
                "principal_name": principal.name,
                "role": role.value,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        ),
    )
    return binding


def revoke(session: Session, actor: Actor, binding_id: str, reason: str) -> BindingRead:
    binding = get_scoped(session, Binding, actor.tenant_id or "", binding_id, "binding")
    actor.require(
        permission_to_manage(Role(binding.role)), target_kind="binding", target_id=binding_id
    )
    if binding.revoked_at is not None:
        raise Conflict(f"binding '{binding_id}' is already revoked")
    binding.revoked_at = utcnow()
    binding.revoked_by = actor.principal_id
    binding.revoke_reason = reason
    record(
        session,
        actor,
        "binding.revoke",
        Target("binding", binding.id, binding.role),
        details=EventDetails(
            reason=reason, payload={"principal_id": binding.principal_id, "role": binding.role}
        ),
    )
    return BindingRead.model_validate(binding)


def list_bindings(
    session: Session,
    actor: Actor,
    principal_id: str | None,
    include_revoked: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[BindingRead], str | None]:
    query = select(Binding).where(Binding.tenant_id == actor.tenant_id)
    if principal_id is not None:
        query = query.where(Binding.principal_id == principal_id)
    if not include_revoked:
        query = query.where(Binding.revoked_at.is_(None))
    rows, nxt = keyset_page(session, query, Binding.id, cursor, limit)
    return [BindingRead.model_validate(r) for r in rows], nxt


def _environment(session: Session, tenant_id: str, data: BindingCreate) -> Environment | None:
    if data.environment is None:
        return None
    if data.role in TENANT_WIDE_ROLES:
        raise InvalidInput(f"role '{data.role}' can only be granted for the whole tenant")
    return environment_by_name(session, tenant_id, data.environment)


def _check_expiry(expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("expires_at must be in the future")
