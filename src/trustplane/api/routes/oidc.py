"""OIDC workload identity routes: trusted issuers and claim rules (thin; rules in the domain)."""

from __future__ import annotations

from fastapi import Depends, status
from sqlalchemy.orm import Session

from trustplane.api.deps import Cursor, Limit, Require, get_session
from trustplane.api.routing import domain_router
from trustplane.identity import oidc_admin
from trustplane.identity.actor import Actor
from trustplane.identity.oidc_schemas import (
    OidcIssuerCreate,
    OidcIssuerRead,
    OidcRuleCreate,
    OidcRuleRead,
)
from trustplane.identity.roles import Permission
from trustplane.identity.schemas import Justification
from trustplane.paging import Page

router = domain_router(tags=["oidc"])
P = Permission


@router.get("/oidc/issuers")
def list_issuers(
    actor: Actor = Require(P.OIDC_READ),
    session: Session = Depends(get_session),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[OidcIssuerRead]:
    items, nxt = oidc_admin.list_issuers(session, actor, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.post("/oidc/issuers", status_code=status.HTTP_201_CREATED)
def register_issuer(
    body: OidcIssuerCreate,
    actor: Actor = Require(P.ACCESS_ADMIN),
    session: Session = Depends(get_session),
) -> OidcIssuerRead:
    """Trust an issuer's tokens for this tenant (keys inline, or a file re-read on each use)."""
    return oidc_admin.register_issuer(session, actor, body)


@router.post("/oidc/issuers/{issuer_id}/disable")
def disable_issuer(
    issuer_id: str,
    body: Justification,
    actor: Actor = Require(P.ACCESS_ADMIN),
    session: Session = Depends(get_session),
) -> OidcIssuerRead:
    return oidc_admin.disable_issuer(session, actor, issuer_id, body.reason)


@router.get("/oidc/rules")
def list_rules(
    actor: Actor = Require(P.OIDC_READ),
    session: Session = Depends(get_session),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[OidcRuleRead]:
    items, nxt = oidc_admin.list_rules(session, actor, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.post("/oidc/rules", status_code=status.HTTP_201_CREATED)
def create_rule(
    body: OidcRuleCreate,
    actor: Actor = Require(P.ACCESS_ADMIN),
    session: Session = Depends(get_session),
) -> OidcRuleRead:
    """Map tokens of an issuer whose claims meet every condition to a service account."""
    return oidc_admin.create_rule(session, actor, body)


@router.post("/oidc/rules/{rule_id}/disable")
def disable_rule(
    rule_id: str,
    body: Justification,
    actor: Actor = Require(P.ACCESS_ADMIN),
    session: Session = Depends(get_session),
) -> OidcRuleRead:
    return oidc_admin.disable_rule(session, actor, rule_id, body.reason)
