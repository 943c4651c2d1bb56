"""API tokens: random secrets shown once, stored as a SHA-256 hash beside a visible prefix.

Tokens carry 256 bits of randomness, so a plain SHA-256 (not a slow password hash) is the
right storage: there is nothing to brute-force, and lookup by hash stays one index probe.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import Target, record
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id, utcnow
from trustplane.db.pagination import keyset_page
from trustplane.errors import Conflict, Forbidden
from trustplane.identity.actor import Actor
from trustplane.identity.models import ApiToken, Principal
from trustplane.identity.repository import get_scoped
from trustplane.identity.roles import Permission
from trustplane.identity.schemas import TokenCreate, TokenIssued, TokenRead

TOKEN_SCHEME = "tp_"
PREFIX_LENGTH = 11  # "tp_" + 8 characters: enough to tell tokens apart in a list


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue(session: Session, actor: Actor, data: TokenCreate, default_ttl_days: int) -> TokenIssued:
    """Issue a token to the actor itself, or (with ``token.issue``) to another principal."""
    tenant_id = _tenant(actor)
    principal_id = data.principal_id or actor.principal_id
    if principal_id != actor.principal_id:
        actor.require(Permission.TOKEN_ISSUE, target_kind="principal", target_id=principal_id)
    elif actor.auth_method == "oidc":
        raise Forbidden(
            "a workload identity may not mint long-lived tokens for itself",
            action="token.issue",
            target_kind="principal",
            target_id=principal_id,
        )
    principal = get_scoped(session, Principal, tenant_id, principal_id, "principal")
    return issue_for(session, actor, principal, data.name, data.expires_in_days or default_ttl_days)


def issue_for(
    session: Session, actor: Actor, principal: Principal, name: str, ttl_days: int
) -> TokenIssued:
    """Create the token row and its audit event; return the secret once."""
    if principal.disabled_at is not None:
        raise Conflict(f"principal '{principal.name}' is disabled")
    secret = TOKEN_SCHEME + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        id=new_id("tok"),
        tenant_id=principal.tenant_id,
        principal_id=principal.id,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        token_hash=hash_token(secret),
        created_at=now,
        created_by=actor.principal_id,
        expires_at=now + timedelta(days=ttl_days),
    )
    session.add(token)
    session.flush()
    record(
        session,
        actor,
        "token.issue",
        Target("token", token.id, name),
        tenant_id=principal.tenant_id,
        details=EventDetails(
            payload={
                "principal_id": principal.id,
                "prefix": token.prefix,
                "expires_at": token.expires_at.isoformat(),
            }
        ),
    )
    return TokenIssued(token=secret, **TokenRead.model_validate(token).model_dump())


def revoke(session: Session, actor: Actor, token_id: str) -> TokenRead:
    """Revoke one's own token, or anyone's with ``token.issue``. Revocation is immediate."""
    token = get_scoped(session, ApiToken, _tenant(actor), token_id, "token")
    if token.principal_id != actor.principal_id:
        actor.require(Permission.TOKEN_ISSUE, target_kind="token", target_id=token_id)
    if token.revoked_at is not None:
        raise Conflict(f"token '{token_id}' is already revoked")
    token.revoked_at = utcnow()
    token.revoked_by = actor.principal_id
    record(session, actor, "token.revoke", Target("token", token.id, token.name))
    return TokenRead.model_validate(token)


def list_tokens(
    session: Session, actor: Actor, principal_id: str | None, cursor: str | None, limit: int
) -> tuple[list[TokenRead], str | None]:
    """Token metadata (never hashes). Without ``token.read`` an actor sees its own tokens only."""
    query = select(ApiToken).where(ApiToken.tenant_id == _tenant(actor))
    if principal_id is not None and principal_id != actor.principal_id:
        actor.require(Permission.TOKEN_READ, target_kind="principal", target_id=principal_id)
    elif principal_id is None and not actor.can(Permission.TOKEN_READ):
        principal_id = actor.principal_id
    if principal_id is not None:
        query = query.where(ApiToken.principal_id == principal_id)
    rows, nxt = keyset_page(session, query, ApiToken.id, cursor, limit)
    return [TokenRead.model_validate(r) for r in rows], nxt


def _tenant(actor: Actor) -> str:
    if actor.tenant_id is None:
        raise Conflict("this operation needs a tenant-scoped actor")
    return actor.tenant_id
