"""ASGI middleware: correlation ids, request body limits and structured request logs."""

from __future__ import annotations

import logging
import re
import time

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from ulid import ULID

from trustplane.api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE

CORRELATION_HEADER = b"x-correlation-id"
_VALID_CORRELATION = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

log = logging.getLogger("trustplane.access")


class _BodyTooLarge(Exception):
    pass


class EdgeMiddleware:
    """Assigns the correlation id, enforces the body limit, logs one JSON line per request.

    One middleware rather than three keeps the per-request overhead to a single ASGI hop.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = _correlation_id(scope)
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((CORRELATION_HEADER, correlation_id.encode()))
                message["headers"] = headers
            await send(message)

        declared = _content_length(scope)
        try:
            if declared is not None and declared > self.max_body_bytes:
                raise _BodyTooLarge
            await self.app(scope, self._limited(receive), send_with_id)
        except _BodyTooLarge:
            if response_started:
                raise
            await self._too_large(scope, send_with_id, correlation_id)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "correlation_id": correlation_id,
                },
            )

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def receive_limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise _BodyTooLarge
            return message

        return receive_limited

    async def _too_large(self, scope: Scope, send: Send, correlation_id: str) -> None:
        body = orjson.dumps(
            {
                "type": PROBLEM_BASE + "payload-too-large",
                "title": "Payload too large",
                "status": 413,
                "detail": f"request bodies are limited to {self.max_body_bytes} bytes",
                "instance": scope.get("path"),
                "correlation_id": correlation_id,
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


def _correlation_id(scope: Scope) -> str:
    given = _header(scope, CORRELATION_HEADER)
    if given is not None:
        text = given.decode("latin-1")
        if _VALID_CORRELATION.match(text):
            return text
    return str(ULID())


def _content_length(scope: Scope) -> int | None:
    raw = _header(scope, b"content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def client_ip(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None
