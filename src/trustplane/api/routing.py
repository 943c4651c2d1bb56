"""The edge's unit of work: one session and one transaction per request, committed here.

A request's transaction spans several worker-thread steps (authentication, the handler, the
commit) and holds a connection, and on SQLite perhaps the write lock, in between. So requests
are admitted into a unit of work at most ``max_concurrent_requests`` at a time, and the thread
pool is larger than that: an admitted request always finds a thread for its next step, and
threads never all wait on resources held by requests that cannot get a thread.

Every API route uses :class:`UnitOfWorkRoute`. It opens the session before the handler runs,
commits after it returns (before the response is sent), and rolls back on any error. When the
error is a :class:`~trustplane.errors.Refused` (no permission, an illegal lifecycle action,
missing evidence) or a refused credential of a known actor, the rolled-back work is replaced by
one committed denial event: a denied attempt always leaves evidence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute, APIRouter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trustplane.audit import Target, record
from trustplane.audit.events import EventDetails
from trustplane.db import idempotency
from trustplane.db.session import begin_write, scope_to_tenant
from trustplane.errors import IdempotencyConflict, Refused, Unauthenticated
from trustplane.identity.actor import Actor

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UnitOfWorkRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def admitted(request: Request) -> Response:
            async with request.app.state.admission:
                return await unit_of_work(request)

        async def unit_of_work(request: Request) -> Response:
            factory = request.app.state.session_factory
            session: Session = factory()
            request.state.session = session
            writes = request.method not in SAFE_METHODS
            try:
                if writes:
                    body = await request.body()
                    request.state.body_sha256 = hashlib.sha256(body).hexdigest()
                    await run_in_threadpool(begin_write, session)
                response = await handler(request)
            except (Refused, Unauthenticated) as exc:
                await run_in_threadpool(_deny_and_close, request, session, exc)
                raise
            except BaseException:
                await run_in_threadpool(_rollback_and_close, session)
                raise
            if response.status_code < 400 and writes:
                await run_in_threadpool(_commit_and_close, request, session, response)
            else:
                await run_in_threadpool(_rollback_and_close, session)
            return response

        return admitted


# Each edge step runs in one worker-thread hop that also closes the session: a hop costs more
# than the work on a fast read, so we take as few as we can.


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


def _commit_and_close(request: Request, session: Session, response: Response) -> None:
    try:
        _commit(request, session, response)
    finally:
        session.close()


def _deny_and_close(request: Request, session: Session, exc: Refused | Unauthenticated) -> None:
    try:
        _record_denial(request, session, exc)
    finally:
        session.close()


def _commit(request: Request, session: Session, response: Response) -> None:
    pending: idempotency.IdempotentRequest | None = getattr(request.state, "idempotency", None)
    if pending is not None:
        secret = bool(getattr(request.state, "secret_response", False))
        body = None if secret else bytes(response.body).decode("utf-8")
        try:
            idempotency.save(session, pending, response.status_code, body)
        except IntegrityError as exc:
            session.rollback()
            raise IdempotencyConflict(
                "a request with this Idempotency-Key was processed concurrently; retry to see it"
            ) from exc
    session.commit()


def _record_denial(request: Request, session: Session, exc: Refused | Unauthenticated) -> None:
    """Replace the request's work with one committed denial event, if the actor is known."""
    session.rollback()
    actor: Actor | None = getattr(request.state, "actor", None)
    if actor is None or actor.tenant_id is None:
        return
    scope_to_tenant(session, actor.tenant_id)
    begin_write(session)
    if isinstance(exc, Refused):
        action, target = exc.action, Target(exc.target_kind, exc.target_id)
        if exc.keep is not None:  # evidence of the refusal itself (a policy decision) stays
            exc.keep(session)
    else:
        action, target = "auth.authenticate", Target("principal", actor.principal_id, actor.name)
    record(
        session,
        actor,
        action,
        target,
        outcome="denied",
        details=EventDetails(
            environment=exc.extra.get("environment"),
            reason=exc.detail,
            payload={"method": request.method, "path": request.url.path},
        ),
    )
    session.commit()


def domain_router(**kwargs: Any) -> APIRouter:
    """The router every domain's routes hang on: each route runs in a unit of work."""
    return APIRouter(route_class=UnitOfWorkRoute, **kwargs)
