"""The error tree every layer raises; the API maps each class to an RFC 9457 problem type."""

from __future__ import annotations

from collections.abc import Callable
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


class Refused(TrustplaneError):
    """A refusal that is an outcome, not a crash (principle: every control produces evidence).

    The edge rolls back the request's work, then records and commits one ``denied`` audit event
    for ``action`` on the target, when the actor is known. Subclasses say why: no permission,
    a lifecycle action that cannot start here, missing evidence, a policy decision.

    ``keep`` writes evidence of the refusal that must survive the rollback (a policy decision);
    the edge calls it, in the denial's transaction, before recording the denial event.
    """

    def __init__(
        self,
        detail: str,
        *,
        action: str,
        target_kind: str,
        target_id: str,
        keep: Callable[[Any], None] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail, **extra)
        self.action = action
        self.target_kind = target_kind
        self.target_id = target_id
        self.keep = keep


class Forbidden(Refused):
    """The actor is known but may not do this."""

    code = "forbidden"


class InvalidTransition(Conflict, Refused):
    """A lifecycle action that cannot start from the current state; ``allowed`` lists those that
    can."""

    code = "invalid-transition"


class IncompleteEvidence(Conflict, Refused):
    """A transition needs evidence that is not there yet; ``missing`` lists exactly what."""

    code = "incomplete-evidence"


class PreconditionFailed(TrustplaneError):
    """The If-Match etag names a state that is no longer current (someone acted first)."""

    code = "precondition-failed"


class PreconditionRequired(TrustplaneError):
    """A lifecycle transition was sent without If-Match."""

    code = "precondition-required"


class PolicyDenied(Conflict, Refused):
    """The policy engine denied the step; ``violations`` say which rules and who can fix them.
    The decision itself is kept (``keep``) with the denial event."""

    code = "policy-denied"
