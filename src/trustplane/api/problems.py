"""RFC 9457 problem details for every error the API can answer with.

Each problem has a stable ``type`` URI (``https://trustplane.dev/problems/<code>``); clients
switch on it, never on ``detail``. No response ever carries a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from orjson import loads
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from trustplane import errors
from trustplane.audit.ledger import LedgerCorruption

PROBLEM_BASE = "https://trustplane.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = logging.getLogger("trustplane.api")

STATUS_BY_ERROR: dict[type[errors.TrustplaneError], int] = {
    errors.InvalidInput: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.IdempotencyConflict: 409,
    errors.PreconditionFailed: 412,
    errors.PreconditionRequired: 428,
}

TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    428: "Precondition required",
    500: "Internal error",
    503: "Service unavailable",
}


class PayloadTooLarge(errors.TrustplaneError):
    code = "payload-too-large"


class IdempotentReplay(Exception):
    """Raised by the auth dependency to answer with a stored response instead of running."""

    def __init__(self, status_code: int, body: str) -> None:
        self.status_code = status_code
        self.body = body


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
        body["correlation_id"] = getattr(request.state, "correlation_id", None)
    body.update(jsonable_encoder({k: v for k, v in extra.items() if v is not None}))
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def status_of(exc: errors.TrustplaneError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


async def _trustplane_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.TrustplaneError)
    status = 413 if isinstance(exc, PayloadTooLarge) else status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, exc.code, exc.detail, request=request, headers=headers, **exc.extra)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    if any(d["type"] == "json_invalid" for d in details):
        return problem(400, "malformed-json", "the request body is not valid JSON", request=request)
    summary = "; ".join(f"{'.'.join(str(p) for p in d['loc'])}: {d['msg']}" for d in details[:5])
    return problem(422, "validation-error", summary, request=request, errors=details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return problem(exc.status_code, code, str(exc.detail), request=request)


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    log.info("integrity error answered as conflict", extra={"error": type(exc).__name__})
    return problem(
        409, "conflict", "the change conflicts with a concurrent one; retry", request=request
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning(
        "database unavailable",
        extra={"error": type(exc).__name__, "correlation_id": request.state.correlation_id},
    )
    return problem(
        503,
        "database-unavailable",
        "the database did not answer in time or the connection was lost; retry shortly",
        request=request,
        headers={"Retry-After": "1"},
    )


async def _ledger_corruption(request: Request, exc: Exception) -> JSONResponse:
    """Rows the ledger needs are missing or wrong: tampering behind the triggers, or damage."""
    log.error(
        "ledger integrity failure",
        extra={"error": str(exc), "correlation_id": request.state.correlation_id},
    )
    return problem(
        500,
        "ledger-integrity",
        "the audit ledger in the database is damaged; an operator should run "
        "'trustplane audit fsck'",
        request=request,
    )


async def _replay(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IdempotentReplay)
    return JSONResponse(
        loads(exc.body), status_code=exc.status_code, headers={"Idempotency-Replayed": "true"}
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", extra={"correlation_id": request.state.correlation_id})
    return problem(500, "internal-error", "an unexpected error occurred", request=request)


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.TrustplaneError, _trustplane_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(LedgerCorruption, _ledger_corruption)
    app.add_exception_handler(IdempotentReplay, _replay)
    app.add_exception_handler(Exception, _unexpected)
