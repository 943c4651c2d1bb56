"""Users and service accounts of a tenant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import Target, record
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id, utcnow
from trustplane.db.pagination import keyset_page
from trustplane.errors import Conflict, InvalidInput
from trustplane.identity.actor import Actor
from trustplane.identity.models import Principal
from trustplane.identity.repository import get_scoped, principal_by_name
from trustplane.identity.schemas import PrincipalRead, ServiceAccountCreate, UserCreate

KINDS = ("user", "service_account")


def create_user(session: Session, actor: Actor, data: UserCreate) -> PrincipalRead:
    return _create(session, actor, "user", data.name, data.display_name, data.email, "")


def create_service_account(
    session: Session, actor: Actor, data: ServiceAccountCreate
) -> PrincipalRead:
    return _create(session, actor, "service_account", data.name, "", None, data.description)


def _create(
    session: Session,
    actor: Actor,
    kind: str,
    name: str,
    display_name: str,
    email: str | None,
    description: str,
) -> PrincipalRead:
    tenant_id = actor.tenant_id or ""
    if principal_by_name(session, tenant_id, name) is not None:
        raise Conflict(f"a principal named '{name}' already exists")
    principal = Principal(
        id=new_id("pr"),
        tenant_id=tenant_id,
        kind=kind,
        name=name,
        display_name=display_name or name,
        email=email,
        description=description,
        created_at=utcnow(),
        created_by=actor.principal_id,
    )
    session.add(principal)
    session.flush()
    record(
        session,
        actor,
        "principal.create",
        Target("principal", principal.id, name),
        details=EventDetails(payload={"kind": kind}),
    )
    return PrincipalRead.model_validate(principal)


def disable(session: Session, actor: Actor, principal_id: str, reason: str) -> PrincipalRead:
    """Disable a principal: its tokens and bindings stop working at once; nothing is deleted."""
    principal = get_scoped(session, Principal, actor.tenant_id or "", principal_id, "principal")
    if principal.id == actor.principal_id:
        raise InvalidInput("you cannot disable yourself")
    if principal.disabled_at is not None:
        raise Conflict(f"principal '{principal.name}' is already disabled")
    principal.disabled_at = utcnow()
    record(
        session,
        actor,
        "principal.disable",
        Target("principal", principal.id, principal.name),
        details=EventDetails(reason=reason),
    )
    return PrincipalRead.model_validate(principal)


def get(session: Session, actor: Actor, principal_id: str) -> PrincipalRead:
    principal = get_scoped(session, Principal, actor.tenant_id or "", principal_id, "principal")
    return PrincipalRead.model_validate(principal)


def list_principals(
    session: Session, actor: Actor, kind: str | None, cursor: str | None, limit: int
) -> tuple[list[PrincipalRead], str | None]:
    query = select(Principal).where(Principal.tenant_id == actor.tenant_id)
    if kind is not None:
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
        query = query.where(Principal.kind == kind)
    rows, nxt = keyset_page(session, query, Principal.id, cursor, limit)
    return [PrincipalRead.model_validate(r) for r in rows], nxt
