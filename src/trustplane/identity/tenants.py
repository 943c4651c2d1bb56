"""Tenants and their environments. Creating a tenant opens its ledger and seats its first admin."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import Target, record
from trustplane.audit.events import EventDetails, open_ledger
from trustplane.db.base import new_id, utcnow
from trustplane.db.pagination import keyset_page
from trustplane.db.session import system_scope, tenant_scope
from trustplane.errors import Conflict, Forbidden, NotFound
from trustplane.identity.actor import Actor
from trustplane.identity.bindings import add_binding
from trustplane.identity.models import Binding, Environment, Principal, Tenant
from trustplane.identity.repository import environment_by_name, get_scoped, tenant_by_name
from trustplane.identity.roles import Permission, Role
from trustplane.identity.schemas import (
    BootstrapResult,
    EnvironmentCreate,
    EnvironmentRead,
    PrincipalRead,
    TenantCreate,
    TenantRead,
)
from trustplane.identity.tokens import issue_for

#: The environments every tenant starts with: name, region, highest data tier allowed.
DEFAULT_ENVIRONMENTS: tuple[EnvironmentCreate, ...] = (
    EnvironmentCreate(name="dev", sensitivity_ceiling="internal"),
    EnvironmentCreate(name="staging", sensitivity_ceiling="confidential"),
    EnvironmentCreate(name="prod", sensitivity_ceiling="restricted-personal"),
)


def create_tenant(
    session: Session,
    actor: Actor,
    data: TenantCreate,
    *,
    token_ttl_days: int,
    platform_admin: bool = False,
) -> BootstrapResult:
    """Create a tenant with default environments and an admin, and issue the admin's token.

    ``platform_admin`` also makes the new admin a platform admin (used by ``admin bootstrap``).
    The event opens the new tenant's ledger; the creator's ledger records it too.
    """
    if actor.kind != "system":
        actor.require(Permission.TENANT_ADMIN, target_kind="tenant", target_id=data.name)
    with system_scope(session):
        if tenant_by_name(session, data.name) is not None:
            raise Conflict(f"tenant '{data.name}' already exists")
    now = utcnow()
    tenant = Tenant(
        id=new_id("ten"),
        name=data.name,
        display_name=data.display_name or data.name,
        created_at=now,
        created_by=actor.principal_id,
    )
    with tenant_scope(session, tenant.id):
        session.add(tenant)
        session.flush()
        open_ledger(session, tenant.id)
        record(
            session,
            actor,
            "tenant.create",
            Target("tenant", tenant.id, tenant.name),
            tenant_id=tenant.id,
        )
        envs = [_add_environment(session, actor, tenant.id, e) for e in DEFAULT_ENVIRONMENTS]
        admin = _seat_admin(session, actor, tenant.id, data, platform_admin=platform_admin)
        token = issue_for(session, actor, admin, "bootstrap", token_ttl_days)
    if actor.tenant_id is not None:
        record(session, actor, "tenant.create", Target("tenant", tenant.id, tenant.name))
    return BootstrapResult(
        tenant=TenantRead.model_validate(tenant),
        admin=PrincipalRead.model_validate(admin),
        environments=[EnvironmentRead.model_validate(e) for e in envs],
        token=token,
    )


def _seat_admin(
    session: Session, actor: Actor, tenant_id: str, data: TenantCreate, *, platform_admin: bool
) -> Principal:
    admin = Principal(
        id=new_id("pr"),
        tenant_id=tenant_id,
        kind="user",
        name=data.admin_name,
        display_name=data.admin_name,
        email=data.admin_email,
        created_at=utcnow(),
        created_by=actor.principal_id,
    )
    session.add(admin)
    session.flush()
    record(
        session,
        actor,
        "principal.create",
        Target("principal", admin.id, admin.name),
        tenant_id=tenant_id,
    )
    roles = [Role.TENANT_ADMIN] + ([Role.PLATFORM_ADMIN] if platform_admin else [])
    for role in roles:
        add_binding(session, actor, admin, role, None, expires_at=None, reason="tenant created")
    return admin


def reissue_admin_token(session: Session, actor: Actor, tenant_name: str, ttl_days: int) -> str:
    """Issue a fresh token to an existing tenant's first active admin (local operators only)."""
    if actor.kind != "system":
        raise Forbidden(
            "only a local operator may reissue an admin token",
            action="token.issue",
            target_kind="tenant",
            target_id=tenant_name,
        )
    with system_scope(session):
        tenant = tenant_by_name(session, tenant_name)
    if tenant is None:
        raise NotFound(f"tenant '{tenant_name}' not found")
    with tenant_scope(session, tenant.id):
        admin = _first_admin(session, tenant.id)
        if admin is None:
            raise Conflict(f"tenant '{tenant_name}' has no active admin to issue a token to")
        return issue_for(session, actor, admin, "bootstrap", ttl_days).token


def _first_admin(session: Session, tenant_id: str) -> Principal | None:
    return session.scalar(
        select(Principal)
        .join(Binding, Binding.principal_id == Principal.id)
        .where(
            Binding.tenant_id == tenant_id,
            Binding.role == Role.TENANT_ADMIN.value,
            Binding.revoked_at.is_(None),
            Principal.disabled_at.is_(None),
        )
        .order_by(Binding.id)
        .limit(1)
    )


def list_tenants(
    session: Session, actor: Actor, cursor: str | None, limit: int
) -> tuple[list[TenantRead], str | None]:
    """Platform admins see every tenant; everyone else sees their own."""
    query = select(Tenant)
    if actor.can(Permission.TENANT_ADMIN):
        with system_scope(session):
            rows, nxt = keyset_page(session, query, Tenant.id, cursor, limit)
    else:
        query = query.where(Tenant.id == actor.tenant_id)
        rows, nxt = keyset_page(session, query, Tenant.id, cursor, limit)
    return [TenantRead.model_validate(r) for r in rows], nxt


def get_tenant(session: Session, tenant_id: str) -> Tenant:
    return get_scoped(session, Tenant, tenant_id, tenant_id, "tenant")


def create_environment(session: Session, actor: Actor, data: EnvironmentCreate) -> EnvironmentRead:
    tenant_id = actor.tenant_id or ""
    existing = session.scalar(
        select(Environment.id).where(
            Environment.tenant_id == tenant_id, Environment.name == data.name
        )
    )
    if existing is not None:
        raise Conflict(f"environment '{data.name}' already exists")
    return EnvironmentRead.model_validate(_add_environment(session, actor, tenant_id, data))


def _add_environment(
    session: Session, actor: Actor, tenant_id: str, data: EnvironmentCreate
) -> Environment:
    env = Environment(
        id=new_id("env"),
        tenant_id=tenant_id,
        name=data.name,
        region=data.region,
        sensitivity_ceiling=data.sensitivity_ceiling,
        description=data.description,
        created_at=utcnow(),
    )
    session.add(env)
    session.flush()
    record(
        session,
        actor,
        "environment.create",
        Target("environment", env.id, env.name),
        tenant_id=tenant_id,
        details=EventDetails(
            environment=env.name,
            payload={"region": env.region, "sensitivity_ceiling": env.sensitivity_ceiling},
        ),
    )
    return env


def list_environments(
    session: Session, actor: Actor, cursor: str | None, limit: int
) -> tuple[list[EnvironmentRead], str | None]:
    query = select(Environment).where(Environment.tenant_id == actor.tenant_id)
    rows, nxt = keyset_page(session, query, Environment.id, cursor, limit)
    return [EnvironmentRead.model_validate(r) for r in rows], nxt


def resolve_environment(session: Session, tenant_id: str, name: str) -> Environment:
    return environment_by_name(session, tenant_id, name)
