"""OIDC workload identity: a signed token from a trusted issuer acts as a service account.

A tenant registers an issuer (its ``iss``, the audience its tokens must carry, and its public
keys as a JWKS, inline or in a file read at each verification) and claim rules that map tokens
to one of its service accounts. Resolution fails closed at every step:

1. The unverified header and claims only pick candidates: the algorithm must be in
   :data:`ALLOWED_ALGORITHMS` (asymmetric only, never ``none`` or ``HS*``) and ``iss`` names
   the registrations to try. Several tenants may register the same issuer.
2. Each candidate verifies the signature with its own keys and the audience with its own
   value (PyJWT does both). Only then are the claims trusted: ``exp`` is required, and
   ``exp``, ``nbf`` and ``iat`` are checked against ``now`` with the configured leeway.
3. Enabled rules of the verified registrations are matched (every condition must hold). The
   token resolves only if the matching rules name exactly one enabled service account.
"""

from __future__ import annotations

import json
import logging
import math
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from fnmatch import fnmatchcase
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.errors import Unauthenticated
from trustplane.identity.models import OidcIssuer, OidcRule, Principal

ALLOWED_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "EdDSA",
)
#: JWK members that hold private or symmetric key material (RFC 7518 section 6).
SECRET_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
PUBLIC_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
MAX_TOKEN_CHARS = 16_384
MAX_JWKS_BYTES = 1_048_576
_SHOWN = 200

log = logging.getLogger("trustplane.identity.oidc")


class JwksError(Exception):
    """A JWKS that cannot be used; the message never holds key material or file paths."""


@dataclass(frozen=True, slots=True)
class PublicKey:
    """One usable public signing key of a JWKS, with the algorithm it is pinned to, if any."""

    kid: str | None
    jwk: Mapping[str, Any]
    alg: str | None


def parse_jwks(data: object) -> list[PublicKey]:
    """The usable public signing keys of a JWKS, or :class:`JwksError` saying why none is."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise JwksError("a JWKS must be a JSON object with a 'keys' array")
    entries = [k for k in data["keys"] if isinstance(k, dict)]
    if any(SECRET_MEMBERS & k.keys() for k in entries):
        raise JwksError("the JWKS holds private or secret key material; publish public keys only")
    usable: list[PublicKey] = []
    skipped: list[str] = []
    for entry in entries:
        reason = _unusable(entry)
        if reason is None:
            alg = entry.get("alg")
            usable.append(PublicKey(_kid(entry), entry, alg if isinstance(alg, str) else None))
        else:
            skipped.append(f"key {_kid(entry) or '(no kid)'}: {reason}")
    try:
        jwt.PyJWKSet([dict(k.jwk) for k in usable])
    except (jwt.PyJWTError, NotImplementedError):
        detail = f" ({'; '.join(skipped[:5])})" if skipped else ""
        raise JwksError(
            f"the JWKS has no usable public signing key for {', '.join(ALLOWED_ALGORITHMS)}"
            + detail
        ) from None
    return usable


def _unusable(jwk: Mapping[str, Any]) -> str | None:
    """Why one JWK cannot verify our tokens, or None if it can."""
    if jwk.get("kty") not in PUBLIC_KEY_TYPES:
        return f"key type {_show(jwk.get('kty'))} is not RSA, EC or OKP"
    if jwk.get("use", "sig") != "sig":
        return "not a signing key ('use' is not 'sig')"
    if "alg" in jwk and jwk["alg"] not in ALLOWED_ALGORITHMS:
        return f"algorithm {_show(jwk['alg'])} is not allowed"
    try:
        key = jwt.PyJWK(dict(jwk))
    except (jwt.PyJWTError, NotImplementedError) as exc:
        return str(exc)[:_SHOWN]
    if key.algorithm_name not in ALLOWED_ALGORITHMS:
        return f"its algorithm {key.algorithm_name} is not allowed"
    return key.Algorithm.check_key_length(key.key)


def _kid(jwk: Mapping[str, Any]) -> str | None:
    kid = jwk.get("kid")
    return kid if isinstance(kid, str) else None


def read_jwks_file(path: str) -> object:
    """Read a JWKS file (a regular file of at most 1 MiB) as JSON, or raise :class:`JwksError`.

    The file is opened without blocking and checked to be a regular file first, so a path to a
    FIFO or a device can neither hang a request nor feed it endless data.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError) as exc:
        raise JwksError(f"the JWKS file cannot be read ({_os_reason(exc)})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise JwksError("the JWKS path is not a regular file")
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(MAX_JWKS_BYTES + 1)
    except OSError as exc:
        raise JwksError(f"the JWKS file cannot be read ({_os_reason(exc)})") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_JWKS_BYTES:
        raise JwksError("the JWKS file is larger than 1 MiB")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise JwksError("the JWKS file is not valid JSON") from None


def _os_reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__


def issuer_keys(issuer: OidcIssuer) -> list[PublicKey]:
    """The issuer's keys as of now: the file is re-read each time, so rotation is a file swap."""
    data = read_jwks_file(issuer.jwks_path) if issuer.jwks_path is not None else issuer.jwks
    return parse_jwks(data)


def conditions_hold(conditions: Sequence[Mapping[str, Any]], claims: Mapping[str, Any]) -> bool:
    """True if there is at least one condition and every one holds for ``claims``."""
    return bool(conditions) and all(_holds(c, claims) for c in conditions)


def _holds(condition: Mapping[str, Any], claims: Mapping[str, Any]) -> bool:
    claim, pattern = condition.get("claim"), condition.get("value")
    if not isinstance(claim, str) or not isinstance(pattern, str):
        return False
    value = claims.get(claim)
    if not isinstance(value, str):
        return False  # numbers, booleans, lists and absent claims never match
    if condition.get("match") == "equals":
        return value == pattern
    if condition.get("match") == "glob":
        return fnmatchcase(value, pattern)
    return False


class _Stage(IntEnum):
    """How far a token got with one registration; the furthest failure is the one reported."""

    JWKS = 1
    KEY = 2
    SIGNATURE = 3
    AUDIENCE = 4
    CLAIMS = 5
    DISABLED = 6


@dataclass(frozen=True, slots=True)
class _Refusal:
    stage: _Stage
    message: str


def resolve_workload(session: Session, token: str, now: datetime, leeway_seconds: int) -> Principal:
    """The service account a verified OIDC token maps to; :class:`Unauthenticated` otherwise.

    The account is returned even when disabled: :func:`~trustplane.identity.authn.authenticate`
    refuses it and records the refused attempt against the known principal.
    """
    alg, kid, iss = _inspect(token)
    candidates = session.scalars(
        select(OidcIssuer).where(OidcIssuer.issuer == iss).order_by(OidcIssuer.id)
    ).all()
    if not candidates:
        raise Unauthenticated(f"OIDC issuer {_show(iss)} is not trusted (no tenant registered it)")
    if all(c.disabled_at is not None for c in candidates):
        raise Unauthenticated(f"OIDC issuer {_show(iss)} is disabled")
    verified: list[tuple[OidcIssuer, dict[str, Any]]] = []
    refusals: list[_Refusal] = []
    for candidate in candidates:
        outcome = _verify(token, alg, kid, candidate)
        if candidate.disabled_at is None:
            if isinstance(outcome, _Refusal):
                refusals.append(outcome)
            else:
                verified.append((candidate, outcome))
        elif not isinstance(outcome, _Refusal):
            refusals.append(_Refusal(_Stage.DISABLED, f"OIDC issuer {_show(iss)} is disabled"))
    if not verified:
        raise Unauthenticated(max(refusals, key=lambda r: r.stage).message)
    claims = verified[0][1]
    _check_times(claims, now, leeway_seconds)
    return _service_account(session, verified, claims)


def _inspect(token: str) -> tuple[str, str | None, str]:
    """Algorithm, key id and issuer from the unverified token: used to pick candidates only."""
    if len(token) > MAX_TOKEN_CHARS:
        raise Unauthenticated(f"OIDC token is longer than {MAX_TOKEN_CHARS} characters")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"malformed OIDC token: {str(exc)[:_SHOWN]}") from None
    alg, kid, iss = header.get("alg"), header.get("kid"), unverified.get("iss")
    if isinstance(alg, str) and alg.lower() == "none":
        raise Unauthenticated("OIDC token is unsigned (alg 'none'); a signed token is required")
    if alg not in ALLOWED_ALGORITHMS:
        raise Unauthenticated(
            f"OIDC token algorithm {_show(alg)} is not allowed; "
            f"accepted: {', '.join(ALLOWED_ALGORITHMS)}"
        )
    if kid is not None and not isinstance(kid, str):
        raise Unauthenticated("malformed OIDC token: the 'kid' header must be a string")
    if not isinstance(iss, str) or not iss:
        raise Unauthenticated("OIDC token has no 'iss' claim")
    return str(alg), kid, iss


def _verify(token: str, alg: str, kid: str | None, issuer: OidcIssuer) -> dict[str, Any] | _Refusal:
    """The token's claims if ``issuer``'s keys and audience accept it, else why not."""
    try:
        keys = issuer_keys(issuer)
    except JwksError as exc:
        log.warning("oidc jwks unusable", extra={"issuer_id": issuer.id, "reason": str(exc)})
        return _Refusal(
            _Stage.JWKS,
            f"the JWKS of OIDC issuer {_show(issuer.issuer)} cannot be used: {exc}; "
            "its tokens are refused until an administrator fixes it",
        )
    chosen = [k for k in keys if kid is None or k.kid == kid]
    if not chosen:
        return _Refusal(
            _Stage.KEY,
            f"OIDC token key id {_show(kid)} is not in the JWKS of issuer {_show(issuer.issuer)}",
        )
    refusal = _Refusal(_Stage.SIGNATURE, "OIDC token signature is invalid")
    for key in chosen:
        outcome = _decode(token, alg, key, issuer)
        if not isinstance(outcome, _Refusal) or outcome.stage > _Stage.SIGNATURE:
            return outcome
        refusal = outcome if len(chosen) == 1 else refusal
    return refusal


def _decode(token: str, alg: str, key: PublicKey, issuer: OidcIssuer) -> dict[str, Any] | _Refusal:
    name = _show(key.kid or "(no kid)")
    if key.alg is not None and key.alg != alg:
        return _Refusal(
            _Stage.SIGNATURE, f"OIDC token algorithm {alg!r} does not match key {name} ({key.alg})"
        )
    try:
        public = jwt.PyJWK(dict(key.jwk), algorithm=key.alg or alg)
    except (jwt.PyJWTError, NotImplementedError):
        return _Refusal(_Stage.SIGNATURE, f"OIDC token algorithm {alg!r} does not fit key {name}")
    try:
        return jwt.decode(
            token,
            key=public,
            algorithms=[alg],
            audience=issuer.audience,
            issuer=issuer.issuer,
            options={
                "require": ["exp"],
                "verify_exp": False,  # times are checked against the caller's clock below
                "verify_nbf": False,
                "verify_iat": False,
                "enforce_minimum_key_length": True,
            },
        )
    except jwt.InvalidKeyError as exc:
        return _Refusal(_Stage.SIGNATURE, f"OIDC key {name} cannot verify tokens: {exc}")
    except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError):
        return _Refusal(_Stage.SIGNATURE, "OIDC token signature is invalid")
    except jwt.MissingRequiredClaimError as exc:
        stage = _Stage.AUDIENCE if exc.claim == "aud" else _Stage.CLAIMS
        return _Refusal(stage, f"OIDC token has no {exc.claim!r} claim")
    except jwt.InvalidAudienceError:
        return _Refusal(
            _Stage.AUDIENCE,
            f"OIDC token audience is not accepted by issuer {_show(issuer.issuer)}",
        )
    except jwt.PyJWTError as exc:
        return _Refusal(_Stage.CLAIMS, f"OIDC token is invalid: {str(exc)[:_SHOWN]}")


def _check_times(claims: Mapping[str, Any], now: datetime, leeway_seconds: int) -> None:
    moment = now.timestamp()
    clock = f"(server time {_when(moment)}, leeway {leeway_seconds}s)"
    exp = _numeric_date(claims, "exp")
    if exp is None:
        raise Unauthenticated("OIDC token has no 'exp' claim")
    if exp <= moment - leeway_seconds:
        raise Unauthenticated(f"OIDC token expired at {_when(exp)} {clock}")
    nbf = _numeric_date(claims, "nbf")
    if nbf is not None and nbf > moment + leeway_seconds:
        raise Unauthenticated(f"OIDC token is not valid before {_when(nbf)} {clock}")
    iat = _numeric_date(claims, "iat")
    if iat is not None and iat > moment + leeway_seconds:
        raise Unauthenticated(f"OIDC token was issued in the future, at {_when(iat)} {clock}")


def _numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Unauthenticated(f"OIDC token claim {name!r} must be a number of seconds")
    return float(value)


def _service_account(
    session: Session, verified: list[tuple[OidcIssuer, dict[str, Any]]], claims: Mapping[str, Any]
) -> Principal:
    tenants = {issuer.id: issuer.tenant_id for issuer, _ in verified}
    rules = session.scalars(
        select(OidcRule).where(OidcRule.issuer_id.in_(tenants)).order_by(OidcRule.id)
    ).all()
    matching = [
        r
        for r in rules
        if r.tenant_id == tenants[r.issuer_id] and conditions_hold(r.conditions, claims)
    ]
    active = [r for r in matching if r.disabled_at is None]
    if not active:
        if matching:
            raise Unauthenticated("every OIDC rule that matches this token is disabled")
        raise Unauthenticated(
            f"no OIDC rule of issuer {_show(verified[0][0].issuer)} matches this token "
            f"(sub {_show(claims.get('sub'))})"
        )
    accounts = sorted({(r.tenant_id, r.service_account_id) for r in active})
    if len(accounts) > 1:
        raise Unauthenticated(
            f"OIDC token matches rules of {len(accounts)} service accounts; an ambiguous "
            "mapping is refused (change the rules so that only one matches)"
        )
    tenant_id, account_id = accounts[0]
    principal = session.get(Principal, account_id)
    if principal is None or principal.tenant_id != tenant_id:
        raise Unauthenticated("the OIDC rule matching this token names an unknown principal")
    if principal.kind != "service_account":
        raise Unauthenticated(
            f"the OIDC rule matching this token maps to '{principal.name}', "
            "which is not a service account"
        )
    return principal  # a disabled one is refused by the caller, which records the attempt


def _when(seconds: float) -> str:
    try:
        return datetime.fromtimestamp(int(seconds), UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, ValueError, OSError):
        return f"{seconds:g} seconds after the epoch"


def _show(value: object) -> str:
    """A claim or header value for a message: quoted and cut short."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
