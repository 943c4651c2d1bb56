"""Identity routes: thin; each declares its permission and calls one service function."""

from __future__ import annotations

from typing import Literal

from fastapi import Depends, Query, status
from sqlalchemy.orm import Session

from trustplane.api.deps import (
    Authenticated,
    Cursor,
    Limit,
    Require,
    get_session,
    get_settings,
    mark_secret_response,
)
from trustplane.api.routing import domain_router
from trustplane.config import Settings
from trustplane.identity import bindings, principals, review, tenants, tokens
from trustplane.identity.actor import Actor
from trustplane.identity.roles import (
    ROLE_DESCRIPTIONS,
    ROLE_PERMISSIONS,
    SENSITIVE_ROLES,
    TENANT_WIDE_ROLES,
    Permission,
    Role,
)
from trustplane.identity.schemas import (
    AccessReview,
    BindingCreate,
    BindingRead,
    BootstrapResult,
    EnvironmentCreate,
    EnvironmentRead,
    GrantRead,
    Justification,
    PrincipalRead,
    RoleRead,
    ServiceAccountCreate,
    TenantCreate,
    TenantRead,
    TokenCreate,
    TokenIssued,
    TokenRead,
    UserCreate,
    WhoAmI,
)
from trustplane.paging import Page

router = domain_router(tags=["identity"])
P = Permission


@router.get("/whoami")
def whoami(actor: Actor = Authenticated()) -> WhoAmI:
    return WhoAmI(
        principal_id=actor.principal_id,
        name=actor.name,
        kind=actor.kind,
        auth_method=actor.auth_method,
        tenant_id=actor.tenant_id,
        tenant_name=actor.tenant_name,
        grants=[
            GrantRead(role=g.role, environment_id=g.environment_id, binding_id=g.binding_id)
            for g in actor.grants
        ],
        permissions=actor.permissions(),
    )


@router.get("/tenants")
def list_tenants(
    actor: Actor = Require(P.TENANT_READ),
    session: Session = Depends(get_session),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[TenantRead]:
    items, nxt = tenants.list_tenants(session, actor, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.post(
    "/tenants",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(mark_secret_response)],
)
def create_tenant(
    body: TenantCreate,
    actor: Actor = Require(P.TENANT_ADMIN),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> BootstrapResult:
    """Create a tenant with dev, staging and prod, and its first admin (token shown once)."""
    return tenants.create_tenant(session, actor, body, token_ttl_days=settings.token_ttl_days)


@router.get("/environments")
def list_environments(
    actor: Actor = Require(P.ENVIRONMENT_READ),
    session: Session = Depends(get_session),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[EnvironmentRead]:
    items, nxt = tenants.list_environments(session, actor, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.post("/environments", status_code=status.HTTP_201_CREATED)
def create_environment(
    body: EnvironmentCreate,
    actor: Actor = Require(P.ENVIRONMENT_WRITE),
    session: Session = Depends(get_session),
) -> EnvironmentRead:
    return tenants.create_environment(session, actor, body)


@router.get("/principals")
def list_principals(
    actor: Actor = Require(P.PRINCIPAL_READ),
    session: Session = Depends(get_session),
    kind: Literal["user", "service_account"] | None = Query(default=None),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[PrincipalRead]:
    items, nxt = principals.list_principals(session, actor, kind, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.get("/principals/{principal_id}")
def get_principal(
    principal_id: str,
    actor: Actor = Require(P.PRINCIPAL_READ),
    session: Session = Depends(get_session),
) -> PrincipalRead:
    return principals.get(session, actor, principal_id)


@router.post("/principals/users", status_code=status.HTTP_201_CREATED)
def create_user(
    body: UserCreate,
    actor: Actor = Require(P.PRINCIPAL_WRITE),
    session: Session = Depends(get_session),
) -> PrincipalRead:
    return principals.create_user(session, actor, body)


@router.post("/principals/service-accounts", status_code=status.HTTP_201_CREATED)
def create_service_account(
    body: ServiceAccountCreate,
    actor: Actor = Require(P.PRINCIPAL_WRITE),
    session: Session = Depends(get_session),
) -> PrincipalRead:
    return principals.create_service_account(session, actor, body)


@router.post("/principals/{principal_id}/disable")
def disable_principal(
    principal_id: str,
    body: Justification,
    actor: Actor = Require(P.PRINCIPAL_WRITE),
    session: Session = Depends(get_session),
) -> PrincipalRead:
    return principals.disable(session, actor, principal_id, body.reason)


@router.get("/tokens")
def list_tokens(
    actor: Actor = Authenticated(),
    session: Session = Depends(get_session),
    principal_id: str | None = Query(default=None, max_length=64),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[TokenRead]:
    """Your tokens; with ``token.read``, everyone's (metadata only, never hashes)."""
    items, nxt = tokens.list_tokens(session, actor, principal_id, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(mark_secret_response)],
)
def create_token(
    body: TokenCreate,
    actor: Actor = Authenticated(),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> TokenIssued:
    """Issue a token (for yourself, or with ``token.issue`` for another principal)."""
    return tokens.issue(session, actor, body, settings.token_ttl_days)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    token_id: str,
    actor: Actor = Authenticated(),
    session: Session = Depends(get_session),
) -> TokenRead:
    return tokens.revoke(session, actor, token_id)


@router.get("/roles")
def list_roles(actor: Actor = Require(P.ROLE_READ)) -> list[RoleRead]:
    return [
        RoleRead(
            name=role.value,
            description=ROLE_DESCRIPTIONS[role],
            permissions=sorted(p.value for p in ROLE_PERMISSIONS[role]),
            sensitive=role in SENSITIVE_ROLES,
            tenant_wide_only=role in TENANT_WIDE_ROLES,
        )
        for role in Role
    ]


@router.get("/bindings")
def list_bindings(
    actor: Actor = Require(P.BINDING_READ),
    session: Session = Depends(get_session),
    principal_id: str | None = Query(default=None, max_length=64),
    include_revoked: bool = Query(default=False),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[BindingRead]:
    items, nxt = bindings.list_bindings(
        session, actor, principal_id, include_revoked, cursor, limit
    )
    return Page(items=items, next_cursor=nxt)


@router.post("/bindings", status_code=status.HTTP_201_CREATED)
def grant_binding(
    body: BindingCreate,
    actor: Actor = Require(P.ACCESS_GRANT),
    session: Session = Depends(get_session),
) -> BindingRead:
    """Grant a role; sensitive roles need ``access.admin``; never to yourself."""
    return bindings.grant(session, actor, body)


@router.post("/bindings/{binding_id}/revoke")
def revoke_binding(
    binding_id: str,
    body: Justification,
    actor: Actor = Require(P.ACCESS_GRANT),
    session: Session = Depends(get_session),
) -> BindingRead:
    return bindings.revoke(session, actor, binding_id, body.reason)


@router.get("/access/review")
def access_review(
    actor: Actor = Require(P.ACCESS_REVIEW),
    session: Session = Depends(get_session),
    expiring_within_days: int = Query(default=14, ge=0, le=3650),
    unused_for_days: int = Query(default=90, ge=1, le=3650),
) -> AccessReview:
    return review.review(session, actor, expiring_within_days, unused_for_days)
