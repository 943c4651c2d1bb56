"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from anyio import to_thread
from fastapi import APIRouter, FastAPI

from trustplane import __version__
from trustplane.api import problems
from trustplane.api.checkpointer import run_checkpoints
from trustplane.api.middleware import EdgeMiddleware
from trustplane.api.routes import (
    approvals,
    audit,
    cards,
    evidence,
    health,
    identity,
    lineage,
    model_registry,
    oidc,
    policy,
    registry,
)
from trustplane.api.sweeper import run_waiver_sweeps
from trustplane.audit.checkpoints import signer_from_settings
from trustplane.config import Settings
from trustplane.db.session import make_engine, make_session_factory
from trustplane.policy import decisions

API_PREFIX = "/api/v1"
SPARE_THREADS = 4  # for health checks, the checkpointer and other work outside requests


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings``: its own engine, session factory and routes."""
    settings = settings or Settings()
    # Each admitted request may hold two connections (its unit of work and a usage update).
    engine = make_engine(settings.database_url, pool_size=2 * settings.max_concurrent_requests + 2)
    session_factory = make_session_factory(engine)
    signer = signer_from_settings(settings)  # created (mode 0600) on first start
    decisions.configure(settings.policy_timeout_seconds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Admission control (see routing.py): at most N requests hold database resources, and
        # there are always more threads than that, so an admitted request never waits for a
        # thread while holding a connection or a lock. Few threads also means little fighting
        # over the GIL, since the work is mostly CPU.
        limit = settings.max_concurrent_requests
        to_thread.current_default_thread_limiter().total_tokens = limit + SPARE_THREADS
        _app.state.admission = anyio.Semaphore(limit)
        async with anyio.create_task_group() as background:
            if settings.checkpoint_interval_seconds > 0:
                background.start_soon(
                    run_checkpoints,
                    settings.checkpoint_interval_seconds,
                    session_factory,
                    signer,
                    settings.ledger_name,
                )
            if settings.waiver_sweep_interval_seconds > 0:
                background.start_soon(
                    run_waiver_sweeps, settings.waiver_sweep_interval_seconds, session_factory
                )
            yield
            background.cancel_scope.cancel()
        engine.dispose()

    app = FastAPI(
        title="Trustplane",
        version=__version__,
        description="Governance control plane for MLOps.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.signer = signer
    problems.install(app)
    app.add_middleware(EdgeMiddleware, max_body_bytes=settings.max_body_bytes)

    api = APIRouter(prefix=API_PREFIX)
    for module in (
        identity,
        audit,
        oidc,
        registry,
        model_registry,
        lineage,
        policy,
        approvals,
        cards,
        evidence,
    ):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    return app
