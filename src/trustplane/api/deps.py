"""Route dependencies: the session, and the actor with the permission the route declares.

Every route declares what it needs with ``Require(Permission.X)``, or ``Authenticated()`` for
routes any signed-in principal may call (whoami, one's own tokens). A test walks the app and
fails on any route without a declaration.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from trustplane.api.middleware import client_ip
from trustplane.api.problems import IdempotentReplay
from trustplane.audit import Origin
from trustplane.config import Settings
from trustplane.db import idempotency
from trustplane.errors import IdempotencyConflict, InvalidInput, Unauthenticated
from trustplane.identity.actor import Actor
from trustplane.identity.authn import authenticate, record_usage
from trustplane.identity.roles import Permission
from trustplane.paging import DEFAULT_LIMIT, MAX_LIMIT

PERMISSION_ATTR = "__trustplane_permission__"
AUTHENTICATED = "authenticated"
MAX_IDEMPOTENCY_KEY = 200


async def get_session(request: Request) -> Session:
    """The request's session, opened by the unit of work (async: no thread hop to fetch it)."""
    session: Session = request.state.session
    return session


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def Require(permission: Permission) -> Any:  # noqa: N802 - reads as a declaration
    """Dependency: an authenticated actor holding ``permission`` tenant-wide."""
    return Depends(_actor_dependency(permission))


def RequireInSomeEnvironment(permission: Permission) -> Any:  # noqa: N802
    """Dependency: an actor holding ``permission`` tenant-wide or in at least one environment.

    For actions aimed at one environment (promote): the route cannot know the environment
    before the body is read, so it admits anyone who may act somewhere, and the service checks
    the environment the request names.
    """
    return Depends(_actor_dependency(permission, anywhere=True))


def Authenticated() -> Any:  # noqa: N802
    """Dependency: any authenticated actor; the service applies finer rules."""
    return Depends(_actor_dependency(None))


def _actor_dependency(permission: Permission | None, *, anywhere: bool = False) -> Any:
    def dependency(request: Request, session: Session = Depends(get_session)) -> Actor:
        settings: Settings = request.app.state.settings
        try:
            actor = authenticate(
                session, _bearer(request), _origin(request), settings.oidc_leeway_seconds
            )
        except Unauthenticated as exc:
            request.state.actor = exc.known_actor
            raise
        request.state.actor = actor
        used = []
        if permission is not None:
            route_id = f"{request.method} {request.url.path}"
            used = actor.granting_somewhere(permission) if anywhere else []
            if not used:
                actor.require(permission, target_kind="route", target_id=route_id)
                used = actor.granting(permission)
        record_usage(session, actor, used, settings.last_used_resolution_seconds)
        _check_idempotency(request, session, actor)
        return actor

    setattr(dependency, PERMISSION_ATTR, permission.value if permission else AUTHENTICATED)
    return dependency


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("missing Authorization header (expected 'Bearer <token>')")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthenticated("malformed Authorization header (expected 'Bearer <token>')")
    return credential.strip()


def _origin(request: Request) -> Origin:
    return Origin(
        correlation_id=request.state.correlation_id,
        ip=client_ip(request.scope),
        user_agent=request.headers.get("user-agent"),
    )


def _check_idempotency(request: Request, session: Session, actor: Actor) -> None:
    key = request.headers.get("idempotency-key")
    if request.method != "POST" or key is None or actor.tenant_id is None:
        return
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise InvalidInput(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
    pending = idempotency.IdempotentRequest(
        tenant_id=actor.tenant_id,
        principal_id=actor.principal_id,
        key=key,
        method=request.method,
        path=request.url.path,
        request_hash=request.state.body_sha256,
    )
    stored = idempotency.find(session, pending)
    if stored is None:
        request.state.idempotency = pending
        return
    if not idempotency.same_request(stored, pending):
        raise IdempotencyConflict("this Idempotency-Key was used with a different request")
    if stored.body is None:
        raise IdempotencyConflict(
            "this request was already completed; its response held a secret, shown only once"
        )
    raise IdempotentReplay(stored.status_code, stored.body)


async def mark_secret_response(request: Request) -> None:
    """Dependency for routes whose response holds a secret: never store it for replay."""
    request.state.secret_response = True


def Cursor() -> Any:  # noqa: N802
    return Query(default=None, max_length=200, description="From a previous page's next_cursor.")


def Limit() -> Any:  # noqa: N802
    return Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
