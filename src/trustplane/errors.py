"""The error tree every layer raises; the API maps each class to an RFC 9457 problem type."""

from __future__ import annotations

from typing import Any


class TrustplaneError(Exception):
    """Base class: a message meant for the user, plus optional structured details."""

    code = "error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(TrustplaneError):
    """The request is well-formed but asks for something impossible (bad value, bad reference)."""

    code = "invalid-input"


class NotFound(TrustplaneError):
    """The thing does not exist, or exists in another tenant (we never say which)."""

    code = "not-found"


class Conflict(TrustplaneError):
    """The request clashes with current state (duplicate name, already revoked...)."""

    code = "conflict"


class IdempotencyConflict(Conflict):
    """An Idempotency-Key was reused with a different request, or is still being processed."""

    code = "idempotency-conflict"


class Unauthenticated(TrustplaneError):
    """No credential, or one that does not resolve to an active principal.

    When the credential did identify a principal (a revoked or expired token, a disabled
    principal), ``known_actor`` holds it so the edge can record the refused attempt.
    """

    code = "unauthenticated"

    def __init__(self, detail: str, *, known_actor: Any = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.known_actor = known_actor


class Forbidden(TrustplaneError):
    """The actor is known but may not do this; the edge records a denial audit event."""

    code = "forbidden"

    def __init__(
        self,
        detail: str,
        *,
        action: str,
        target_kind: str,
        target_id: str,
        **extra: Any,
    ) -> None:
        super().__init__(detail, **extra)
        self.action = action
        self.target_kind = target_kind
        self.target_id = target_id
