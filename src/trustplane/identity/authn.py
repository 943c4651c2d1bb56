"""Authentication: a bearer credential becomes an :class:`Actor`, or the request is refused.

Two credentials are accepted: Trustplane API tokens (``tp_...``) and OIDC JWTs from a trusted
issuer (workload identity, see :mod:`trustplane.identity.oidc`). Lookups run in system scope,
because the tenant is what we are about to learn; afterwards the session is scoped to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from trustplane.audit import Origin
from trustplane.db.base import utcnow
from trustplane.db.session import (
    begin_write,
    enter_system_scope,
    is_writer,
    reset_scope,
    scope_to_tenant,
)
from trustplane.errors import Unauthenticated
from trustplane.identity import oidc
from trustplane.identity.actor import Actor, Grant
from trustplane.identity.models import ApiToken, Binding, Principal, Tenant
from trustplane.identity.roles import Role
from trustplane.identity.tokens import TOKEN_SCHEME, hash_token

_tokens = ApiToken.__table__
_principals = Principal.__table__
_tenants = Tenant.__table__
_bindings = Binding.__table__

_ACTIVE_BINDING = and_(
    _bindings.c.principal_id == _principals.c.id,
    _bindings.c.revoked_at.is_(None),
    or_(_bindings.c.expires_at.is_(None), _bindings.c.expires_at > bindparam("now")),
)

#: The principal, its tenant's name and its active bindings (one row per binding; one row
#: with nulls if it has none).
_PRINCIPAL_COLUMNS = (
    _principals.c.id,
    _principals.c.name,
    _principals.c.kind,
    _principals.c.tenant_id,
    _principals.c.disabled_at,
    _tenants.c.name.label("tenant_name"),
    _bindings.c.id.label("binding_id"),
    _bindings.c.role,
    _bindings.c.environment_id,
    _bindings.c.last_used_at.label("binding_used"),
)
_PRINCIPAL_FROM = _principals.join(_tenants, _tenants.c.id == _principals.c.tenant_id).outerjoin(
    _bindings, _ACTIVE_BINDING
)

#: Everything token authentication needs, in one round trip. Built once as Core SQL, so
#: requests pay neither ORM loading nor statement construction.
_BY_TOKEN = (
    select(
        _tokens.c.id.label("token_id"),
        _tokens.c.prefix,
        _tokens.c.expires_at,
        _tokens.c.revoked_at,
        _tokens.c.last_used_at.label("token_used"),
        *_PRINCIPAL_COLUMNS,
    )
    .select_from(_tokens.join(_PRINCIPAL_FROM, _principals.c.id == _tokens.c.principal_id))
    .where(_tokens.c.token_hash == bindparam("token_hash"))
)

_BY_PRINCIPAL = (
    select(*_PRINCIPAL_COLUMNS)
    .select_from(_PRINCIPAL_FROM)
    .where(_principals.c.id == bindparam("principal_id"))
)


def authenticate(session: Session, credential: str, origin: Origin, leeway_seconds: int) -> Actor:
    """Resolve a bearer credential; raise :class:`Unauthenticated` with a precise reason.

    The lookup runs in system scope (the tenant is what it finds out); the session is then
    scoped to the principal's tenant for the rest of the request.
    """
    now = utcnow()
    enter_system_scope(session)
    try:
        rows, method = _lookup(session, credential, now, origin, leeway_seconds)
    except BaseException:
        reset_scope(session)  # no database call: the connection may be what failed
        raise
    first = rows[0]
    scope_to_tenant(session, first.tenant_id)
    if first.disabled_at is not None:
        raise Unauthenticated(
            f"principal '{first.name}' is disabled",
            known_actor=_bare_actor(first, method, origin),
        )
    return Actor(
        principal_id=first.id,
        name=first.name,
        kind=first.kind,
        auth_method=method,
        tenant_id=first.tenant_id,
        tenant_name=first.tenant_name,
        origin=origin,
        grants=tuple(
            Grant(r.binding_id, Role(r.role), r.environment_id, r.binding_used)
            for r in rows
            if r.binding_id is not None
        ),
        token_id=first.token_id if method == "token" else None,
        token_last_used_at=first.token_used if method == "token" else None,
    )


def _lookup(
    session: Session, credential: str, now: datetime, origin: Origin, leeway_seconds: int
) -> tuple[Sequence[Any], str]:
    """The principal's rows (one per active binding) and how the credential signed in."""
    if credential.startswith(TOKEN_SCHEME):
        rows = (
            session.connection()
            .execute(_BY_TOKEN, {"token_hash": hash_token(credential), "now": now})
            .all()
        )
        _check_token(rows, now, origin)
        return rows, "token"
    if credential.count(".") == 2:
        principal = oidc.resolve_workload(session, credential, now, leeway_seconds)
        rows = (
            session.connection()
            .execute(_BY_PRINCIPAL, {"principal_id": principal.id, "now": now})
            .all()
        )
        return rows, "oidc"
    raise Unauthenticated("unrecognised credential: expected a Trustplane token or an OIDC JWT")


def _check_token(rows: Sequence[Any], now: datetime, origin: Origin) -> None:
    if not rows:
        raise Unauthenticated("invalid token")
    token = rows[0]
    if token.revoked_at is not None:
        problem = f"token {token.prefix}... was revoked"
    elif token.expires_at <= now:
        problem = f"token {token.prefix}... expired at {token.expires_at.isoformat()}"
    else:
        return
    raise Unauthenticated(problem, known_actor=_bare_actor(token, "token", origin))


def _bare_actor(row: Any, method: str, origin: Origin) -> Actor:
    """The principal a refused credential named, with no grants: only for the denial event."""
    return Actor(row.id, row.name, row.kind, method, row.tenant_id, origin)


def record_usage(
    session: Session, actor: Actor, used: list[Grant], resolution_seconds: int
) -> None:
    """Move last-used times of the actor's token and of the grants that authorised a request.

    Usage is telemetry, not a governance event: it is written in its own short transaction on
    a separate session, and only when the recorded time is older than ``resolution_seconds``,
    so a busy read path writes about once a minute per token rather than once a request.
    """
    now = utcnow()
    stale = now - timedelta(seconds=resolution_seconds)
    token_id = actor.token_id if _is_stale(actor.token_last_used_at, stale) else None
    binding_ids = [g.binding_id for g in used if _is_stale(g.last_used_at, stale)]
    if token_id is None and not binding_ids:
        return
    if is_writer(session):  # already holds the write lock: one more statement, same commit
        _touch(session, token_id, binding_ids, now)
        return
    with Session(bind=session.get_bind()) as side:
        side.info["system"] = True
        begin_write(side)
        _touch(side, token_id, binding_ids, now)
        side.commit()


def _touch(session: Session, token_id: str | None, binding_ids: list[str], now: datetime) -> None:
    if token_id is not None:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    if binding_ids:
        session.execute(update(Binding).where(Binding.id.in_(binding_ids)).values(last_used_at=now))


def _is_stale(moment: datetime | None, stale: datetime) -> bool:
    return moment is None or moment < stale
