"""Canonical JSON (RFC 8785, JCS): the only encoding we hash or sign.

Most values take a fast path: for strings, booleans, null, integers of at most 2**53 - 1 in
magnitude, floats as described below, and lists and string-keyed objects of them, the
standard library's C encoder with sorted keys and no ASCII escaping writes exactly the RFC 8785
bytes, unless a character outside the Basic Multilingual Plane makes UTF-16 key order differ
from code point order. Floats are first put in the form ECMAScript prints: an integral float
within 2**53 is written as the integer it is (``100.0`` is ``100``, ``-0.0`` is ``0``);
finite non-integral floats of magnitude at least 1e-4 print the same shortest round-trip
digits in Python's ``repr`` and in ECMAScript, without an exponent in either. Everything else
(smaller floats, which Python writes with an exponent, larger integral floats, large integers,
other types, such characters) goes to the ``rfc8785`` encoder, which also raises on what JSON
cannot hold. The test suite holds the two paths to the same bytes with property tests.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import UTC, datetime
from typing import Any

import rfc8785

_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SAFE_INTEGER = 2**53 - 1
_SMALLEST_PLAIN_FLOAT = 1e-4  # below it Python's repr switches to an exponent, ES at 1e-6


class _NotPlain(Exception):
    """A value the fast path does not write as RFC 8785 does."""


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` as RFC 8785 canonical JSON bytes."""
    try:
        text = _ENCODER.encode(_plain(value))
    except _NotPlain:
        return bytes(rfc8785.dumps(value))
    if text.isascii():
        return text.encode("ascii")
    if not _ASTRAL.search(text):
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: RFC 8785 refuses it
            pass
    return bytes(rfc8785.dumps(value))


def _plain(value: Any) -> Any:
    """``value`` with its floats in ECMAScript's form; raises _NotPlain for anything else."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
            return value
        raise _NotPlain
    if kind is float:
        if value.is_integer() and -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
            return int(value)
        if math.isfinite(value) and not value.is_integer() and abs(value) >= _SMALLEST_PLAIN_FLOAT:
            return value
        raise _NotPlain  # larger integral floats, tiny ones, NaN and infinities
    if kind is dict:
        changed: dict[str, Any] | None = None
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            new = _plain(item)
            if new is not item:  # copy only what holds an integral float
                changed = changed if changed is not None else dict(value)
                changed[key] = new
        return value if changed is None else changed
    if kind is list:
        items = [_plain(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    raise _NotPlain


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>``, the digest form used everywhere in Trustplane."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def rfc3339(moment: datetime) -> str:
    """UTC RFC 3339 with microseconds and a ``Z`` suffix, fixed width so text sorts as time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
