"""Registering, listing and disabling trusted OIDC issuers and their claim rules.

Every change records its audit event in the caller's session; nothing is ever deleted, only
disabled, so the trust a past request relied on can always be reconstructed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import Target, record
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id, utcnow
from trustplane.db.pagination import keyset_page
from trustplane.errors import Conflict, InvalidInput, NotFound
from trustplane.identity.actor import Actor
from trustplane.identity.models import OidcIssuer, OidcRule, Principal
from trustplane.identity.oidc import JwksError, issuer_keys, parse_jwks, read_jwks_file
from trustplane.identity.oidc_schemas import (
    OidcIssuerCreate,
    OidcIssuerRead,
    OidcRuleCreate,
    OidcRuleRead,
)
from trustplane.identity.repository import get_scoped

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
#: Numeric time claims: a condition on them could never hold (only strings match).
TIME_CLAIMS = frozenset({"exp", "nbf", "iat"})


def register_issuer(session: Session, actor: Actor, data: OidcIssuerCreate) -> OidcIssuerRead:
    tenant_id = _tenant(actor)
    _check_issuer_url(data.issuer)
    key_ids = _check_jwks(data)
    existing = session.scalar(
        select(OidcIssuer).where(
            OidcIssuer.tenant_id == tenant_id,
            OidcIssuer.issuer == data.issuer,
            OidcIssuer.audience == data.audience,
        )
    )
    if existing is not None:
        state = " (disabled)" if existing.disabled_at is not None else ""
        raise Conflict(
            f"issuer '{data.issuer}' is already registered for audience "
            f"'{data.audience}' as {existing.id}{state}"
        )
    issuer = OidcIssuer(
        id=new_id("oidc"),
        tenant_id=tenant_id,
        issuer=data.issuer,
        audience=data.audience,
        jwks=data.jwks,
        jwks_path=data.jwks_path,
        created_at=utcnow(),
        created_by=actor.principal_id,
    )
    session.add(issuer)
    session.flush()
    record(
        session,
        actor,
        "oidc.issuer.register",
        Target("oidc_issuer", issuer.id, issuer.issuer),
        details=EventDetails(
            payload={
                "issuer": issuer.issuer,
                "audience": issuer.audience,
                "jwks_source": _source(issuer),
                "jwks_path": issuer.jwks_path,
                "key_ids": key_ids,
            }
        ),
    )
    return _issuer_read(issuer, key_ids)


def list_issuers(
    session: Session, actor: Actor, cursor: str | None, limit: int
) -> tuple[list[OidcIssuerRead], str | None]:
    query = select(OidcIssuer).where(OidcIssuer.tenant_id == _tenant(actor))
    rows, nxt = keyset_page(session, query, OidcIssuer.id, cursor, limit)
    return [_issuer_read(r) for r in rows], nxt


def disable_issuer(session: Session, actor: Actor, issuer_id: str, reason: str) -> OidcIssuerRead:
    """Stop trusting an issuer at once; its rules stop matching with it."""
    issuer = get_scoped(session, OidcIssuer, _tenant(actor), issuer_id, "OIDC issuer")
    if issuer.disabled_at is not None:
        raise Conflict(f"OIDC issuer '{issuer_id}' is already disabled")
    issuer.disabled_at = utcnow()
    record(
        session,
        actor,
        "oidc.issuer.disable",
        Target("oidc_issuer", issuer.id, issuer.issuer),
        details=EventDetails(reason=reason, payload={"audience": issuer.audience}),
    )
    return _issuer_read(issuer)


def create_rule(session: Session, actor: Actor, data: OidcRuleCreate) -> OidcRuleRead:
    tenant_id = _tenant(actor)
    issuer = get_scoped(session, OidcIssuer, tenant_id, data.issuer_id, "OIDC issuer")
    if issuer.disabled_at is not None:
        raise Conflict(f"OIDC issuer '{issuer.id}' is disabled")
    account = get_scoped(session, Principal, tenant_id, data.service_account_id, "principal")
    if account.kind != "service_account":
        raise InvalidInput(f"principal '{account.name}' is not a service account")
    if account.disabled_at is not None:
        raise Conflict(f"service account '{account.name}' is disabled")
    conditions = [c.model_dump() for c in data.conditions]
    timed = sorted({c["claim"] for c in conditions} & TIME_CLAIMS)
    if timed:
        raise InvalidInput(f"claim '{timed[0]}' is a number; rules match string claims only")
    rule = OidcRule(
        id=new_id("oidcr"),
        tenant_id=tenant_id,
        issuer_id=issuer.id,
        service_account_id=account.id,
        conditions=conditions,
        description=data.description,
        created_at=utcnow(),
        created_by=actor.principal_id,
    )
    session.add(rule)
    session.flush()
    record(
        session,
        actor,
        "oidc.rule.create",
        Target("oidc_rule", rule.id, account.name),
        details=EventDetails(
            payload={
                "issuer_id": issuer.id,
                "issuer": issuer.issuer,
                "service_account_id": account.id,
                "conditions": conditions,
            }
        ),
    )
    return OidcRuleRead.model_validate(rule)


def list_rules(
    session: Session, actor: Actor, cursor: str | None, limit: int
) -> tuple[list[OidcRuleRead], str | None]:
    query = select(OidcRule).where(OidcRule.tenant_id == _tenant(actor))
    rows, nxt = keyset_page(session, query, OidcRule.id, cursor, limit)
    return [OidcRuleRead.model_validate(r) for r in rows], nxt


def disable_rule(session: Session, actor: Actor, rule_id: str, reason: str) -> OidcRuleRead:
    rule = session.get(OidcRule, rule_id)
    if rule is None or rule.tenant_id != _tenant(actor):
        raise NotFound(f"OIDC rule '{rule_id}' not found")
    if rule.disabled_at is not None:
        raise Conflict(f"OIDC rule '{rule_id}' is already disabled")
    rule.disabled_at = utcnow()
    record(
        session,
        actor,
        "oidc.rule.disable",
        Target("oidc_rule", rule.id),
        details=EventDetails(
            reason=reason,
            payload={"issuer_id": rule.issuer_id, "service_account_id": rule.service_account_id},
        ),
    )
    return OidcRuleRead.model_validate(rule)


def _check_issuer_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise InvalidInput(f"issuer '{url}' is not a valid URL") from None
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in LOCAL_HOSTS)
    if not secure or not host:
        raise InvalidInput("issuer must be an https URL (http is accepted for localhost only)")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidInput("issuer must not have a query, a fragment or user information")


def _check_jwks(data: OidcIssuerCreate) -> list[str]:
    """Validate the keys now (inline or file), so a typo fails here, not in a CI job."""
    if (data.jwks is None) == (data.jwks_path is None):
        raise InvalidInput("give exactly one of 'jwks' (inline keys) and 'jwks_path' (a file)")
    where = "jwks"
    try:
        if data.jwks_path is not None:
            where = "jwks_path"
            if not Path(data.jwks_path).is_absolute():
                raise JwksError("the path must be absolute")
            keys = parse_jwks(read_jwks_file(data.jwks_path))
        else:
            keys = parse_jwks(data.jwks)
    except JwksError as exc:
        raise InvalidInput(f"{where}: {exc}") from None
    return [k.kid for k in keys if k.kid is not None]


def _issuer_read(issuer: OidcIssuer, key_ids: list[str] | None = None) -> OidcIssuerRead:
    if key_ids is None:
        try:
            key_ids = [k.kid for k in issuer_keys(issuer) if k.kid is not None]
        except JwksError:
            key_ids = []  # a broken file lists no keys; verification refuses its tokens
    return OidcIssuerRead(
        id=issuer.id,
        issuer=issuer.issuer,
        audience=issuer.audience,
        jwks_source=_source(issuer),
        jwks_path=issuer.jwks_path,
        key_ids=key_ids,
        created_at=issuer.created_at,
        created_by=issuer.created_by,
        disabled_at=issuer.disabled_at,
    )


def _source(issuer: OidcIssuer) -> Literal["inline", "file"]:
    return "file" if issuer.jwks_path is not None else "inline"


def _tenant(actor: Actor) -> str:
    if actor.tenant_id is None:
        raise Conflict("this operation needs a tenant-scoped actor")
    return actor.tenant_id
