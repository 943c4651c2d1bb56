"""Authentication: a bearer credential becomes an :class:`Actor`, or the request is refused.

Two credentials are accepted: Trustplane API tokens (``tp_...``) and OIDC JWTs from a trusted
issuer (workload identity, see :mod:`trustplane.identity.oidc`). Lookups run in system scope,
because the tenant is what we are about to learn; afterwards the session is scoped to it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trustplane.audit import Origin
from trustplane.db.base import utcnow
from trustplane.db.session import begin_write, is_writer, scope_to_tenant, system_scope
from trustplane.errors import Unauthenticated
from trustplane.identity import oidc
from trustplane.identity.actor import Actor, Grant
from trustplane.identity.models import ApiToken, Binding, Principal
from trustplane.identity.repository import active_bindings
from trustplane.identity.roles import Role
from trustplane.identity.tokens import TOKEN_SCHEME, hash_token


def authenticate(session: Session, credential: str, origin: Origin, leeway_seconds: int) -> Actor:
    """Resolve a bearer credential; raise :class:`Unauthenticated` with a precise reason."""
    now = utcnow()
    if credential.startswith(TOKEN_SCHEME):
        principal, token = _from_api_token(session, credential, now, origin)
        method, token_id, token_used = "token", token.id, token.last_used_at
    elif credential.count(".") == 2:
        with system_scope(session):
            principal = oidc.resolve_workload(session, credential, now, leeway_seconds)
        method, token_id, token_used = "oidc", None, None
    else:
        raise Unauthenticated("unrecognised credential: expected a Trustplane token or an OIDC JWT")
    if principal.disabled_at is not None:
        raise Unauthenticated(
            f"principal '{principal.name}' is disabled",
            known_actor=_bare_actor(principal, method, origin),
        )
    scope_to_tenant(session, principal.tenant_id)
    grants = tuple(
        Grant(b.id, Role(b.role), b.environment_id, b.last_used_at)
        for b in active_bindings(session, principal.id, now)
    )
    return Actor(
        principal_id=principal.id,
        name=principal.name,
        kind=principal.kind,
        auth_method=method,
        tenant_id=principal.tenant_id,
        origin=origin,
        grants=grants,
        token_id=token_id,
        token_last_used_at=token_used,
    )


def _from_api_token(
    session: Session, secret: str, now: datetime, origin: Origin
) -> tuple[Principal, ApiToken]:
    with system_scope(session):
        row = session.execute(
            select(ApiToken, Principal)
            .join(Principal, Principal.id == ApiToken.principal_id)
            .where(ApiToken.token_hash == hash_token(secret))
        ).first()
    if row is None:
        raise Unauthenticated("invalid token")
    token, principal = row[0], row[1]
    if token.revoked_at is not None:
        problem = f"token {token.prefix}... was revoked"
    elif token.expires_at <= now:
        problem = f"token {token.prefix}... expired at {token.expires_at.isoformat()}"
    else:
        return principal, token
    raise Unauthenticated(problem, known_actor=_bare_actor(principal, "token", origin))


def _bare_actor(principal: Principal, method: str, origin: Origin) -> Actor:
    """The principal a refused credential named, with no grants: only for the denial event."""
    return Actor(principal.id, principal.name, principal.kind, method, principal.tenant_id, origin)


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
