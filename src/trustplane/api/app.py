"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import APIRouter, FastAPI

from trustplane import __version__
from trustplane.api import problems
from trustplane.api.middleware import EdgeMiddleware
from trustplane.api.routes import audit, health, identity, oidc
from trustplane.config import Settings
from trustplane.db.session import make_engine, make_session_factory

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings``: its own engine, session factory and routes."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Database work runs in worker threads. It is mostly CPU under the GIL, so a few threads
        # serve as many requests as many threads would, without them fighting over the GIL.
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        yield
        engine.dispose()

    app = FastAPI(
        title="Trustplane",
        version=__version__,
        description="Governance control plane for MLOps.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    problems.install(app)
    app.add_middleware(EdgeMiddleware, max_body_bytes=settings.max_body_bytes)

    api = APIRouter(prefix=API_PREFIX)
    for module in (identity, audit, oidc):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    return app
