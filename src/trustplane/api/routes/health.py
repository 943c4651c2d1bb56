"""Liveness and readiness: the only public routes besides the OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from trustplane.db.migrate import schema_status

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive (no dependency is checked)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the code's migration head."""
    status = await run_in_threadpool(schema_status, request.app.state.engine)
    body = {
        "status": "ready" if status.ready else "not-ready",
        "database": status.database,
        "current_revision": status.current,
        "head_revision": status.head,
    }
    return JSONResponse(body, status_code=200 if status.ready else 503)
