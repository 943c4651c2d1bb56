"""The Trustplane Python SDK: a typed HTTP client that never imports server code."""

from __future__ import annotations

from trustplane.client._base import DEFAULT_URL
from trustplane.client.client import TrustplaneClient
from trustplane.client.errors import (
    Conflict,
    ConnectionFailed,
    Forbidden,
    IdempotencyConflict,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ServerError,
    TrustplaneAPIError,
    TrustplaneClientError,
    Unauthenticated,
    UnexpectedResponse,
    ValidationFailed,
)

__all__ = [
    "DEFAULT_URL",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "IdempotencyConflict",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "ServerError",
    "TrustplaneAPIError",
    "TrustplaneClient",
    "TrustplaneClientError",
    "Unauthenticated",
    "UnexpectedResponse",
    "ValidationFailed",
]
