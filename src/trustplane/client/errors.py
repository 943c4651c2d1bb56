"""Errors the SDK raises: one class per RFC 9457 problem type the API answers with.

Callers catch a class (``except NotFound``) instead of parsing messages. The problem ``type``
decides the class; the HTTP status only decides when the type is unknown (an older SDK facing
a newer server, or a proxy answering instead of Trustplane).
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import ValidationError

from trustplane.client.policy_models import PolicyDenial, PolicyTestReport

PROBLEM_BASE = "https://trustplane.dev/problems/"
POLICY_DENIED = "policy-denied"


class TrustplaneClientError(Exception):
    """Base of everything the SDK raises."""


class ConnectionFailed(TrustplaneClientError):
    """The server could not be reached or did not answer in time (no HTTP response at all)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach Trustplane at {url}: {reason}")
        self.url = url
        self.reason = reason


class UnexpectedResponse(TrustplaneClientError):
    """A success status whose body is not the JSON the API documents (e.g. a proxy page)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"unexpected response from server (HTTP {status}): {detail}")
        self.status = status


class TrustplaneAPIError(TrustplaneClientError):
    """The API answered with a problem document."""

    def __init__(
        self,
        status: int,
        type: str,
        title: str,
        detail: str,
        correlation_id: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.correlation_id = correlation_id
        self.extra: dict[str, Any] = extra or {}

    @property
    def code(self) -> str:
        """The stable short name of the problem type, e.g. ``not-found``."""
        return self.type.removeprefix(PROBLEM_BASE)

    def __str__(self) -> str:
        return f"{self.detail} (HTTP {self.status}, {self.code})"

    @property
    def policy_denial(self) -> PolicyDenial | None:
        """Why the policy refused the step (violations with their remediation and owner role,
        waived ones, sign-offs still missing), for a ``policy-denied`` problem; else None.
        Such a denial is a :class:`Conflict` (409), so ``except Conflict`` catches it too."""
        if self.code != POLICY_DENIED:
            return None
        try:
            return PolicyDenial.from_api(self.extra)
        except ValidationError:  # a denial all the same, even if its members are unreadable
            return PolicyDenial()

    @property
    def policy_test_report(self) -> PolicyTestReport | None:
        """The sandbox's report when a pushed policy bundle was refused (compile or tests)."""
        report = self.extra.get("report")
        if not isinstance(report, dict):
            return None
        try:
            return PolicyTestReport.from_api(report)
        except ValidationError:
            return None


class Unauthenticated(TrustplaneAPIError):
    """401: no token, or one that is unknown, expired or revoked."""


class Forbidden(TrustplaneAPIError):
    """403: the principal is known but lacks the permission (the denial is audited)."""


class NotFound(TrustplaneAPIError):
    """404: absent, or in another tenant (the API never says which)."""


class Conflict(TrustplaneAPIError):
    """409: the request clashes with current state, or a policy denied it."""


class IdempotencyConflict(Conflict):
    """409: the Idempotency-Key was used with a different request, or cannot be replayed."""


class ValidationFailed(TrustplaneAPIError):
    """400/422: the payload is malformed or asks for something impossible."""


class PayloadTooLarge(TrustplaneAPIError):
    """413: the request body exceeds the server's limit."""


class PreconditionFailed(TrustplaneAPIError):
    """412/428: If-Match missing or naming a state that is no longer current; read again."""


class ServerError(TrustplaneAPIError):
    """5xx: the server failed; retrying later may help."""


_BY_CODE: dict[str, type[TrustplaneAPIError]] = {
    "unauthenticated": Unauthenticated,
    "forbidden": Forbidden,
    "not-found": NotFound,
    "conflict": Conflict,
    "idempotency-conflict": IdempotencyConflict,
    "validation-error": ValidationFailed,
    "invalid-input": ValidationFailed,
    "malformed-json": ValidationFailed,
    "payload-too-large": PayloadTooLarge,
    "internal-error": ServerError,
    "precondition-failed": PreconditionFailed,
    "precondition-required": PreconditionFailed,
}

_BY_STATUS: dict[int, type[TrustplaneAPIError]] = {
    400: ValidationFailed,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    422: ValidationFailed,
}

_KNOWN_MEMBERS = frozenset({"type", "title", "status", "detail", "correlation_id"})


def error_class(problem_type: str, status: int) -> type[TrustplaneAPIError]:
    """The class for a problem: by type first, then by status."""
    if problem_type.startswith(PROBLEM_BASE):
        found = _BY_CODE.get(problem_type.removeprefix(PROBLEM_BASE))
        if found is not None:
            return found
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, TrustplaneAPIError)


def from_response(response: httpx.Response) -> TrustplaneAPIError:
    """Build the error for a non-2xx response, problem document or not."""
    status = response.status_code
    header_cid = response.headers.get("x-correlation-id")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = " ".join(response.text.split())[:200] or response.reason_phrase
        cls = error_class("about:blank", status)
        return cls(status, "about:blank", response.reason_phrase, text, header_cid)
    problem_type = str(body.get("type") or "about:blank")
    detail = body.get("detail")
    if not isinstance(detail, str) or not detail:
        detail = str(body.get("title") or response.reason_phrase or f"HTTP {status}")
    cls = error_class(problem_type, status)
    return cls(
        status,
        problem_type,
        str(body.get("title") or response.reason_phrase),
        detail,
        body.get("correlation_id") or header_cid,
        {k: v for k, v in body.items() if k not in _KNOWN_MEMBERS},
    )
