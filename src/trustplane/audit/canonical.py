"""Canonical JSON (RFC 8785, JCS): the only encoding we hash or sign."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import rfc8785


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` as RFC 8785 canonical JSON bytes."""
    return bytes(rfc8785.dumps(value))


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>``, the digest form used everywhere in Trustplane."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def rfc3339(moment: datetime) -> str:
    """UTC RFC 3339 with microseconds and a ``Z`` suffix, fixed width so text sorts as time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
