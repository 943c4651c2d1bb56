"""Sign-offs and waivers: the people-side of a governed release.

Who may sign off, request or approve a waiver depends on the environment the body names, so
these routes admit any authenticated actor holding the permission somewhere, and the
services check it in that environment (refusals are recorded).
"""

from __future__ import annotations

from fastapi import Depends, Query, status
from sqlalchemy.orm import Session

from trustplane.api.deps import (
    Authenticated,
    Cursor,
    Limit,
    Require,
    RequireInSomeEnvironment,
    get_session,
)
from trustplane.api.routing import domain_router
from trustplane.db.base import utcnow
from trustplane.identity.actor import Actor
from trustplane.identity.roles import Permission
from trustplane.paging import Page
from trustplane.policy import waivers
from trustplane.policy.schemas import (
    ApprovalCreate,
    ApprovalRead,
    SignoffOutcome,
    SweepRead,
    WaiverCreate,
    WaiverDecide,
    WaiverRead,
    WaiverReport,
)
from trustplane.registry import release, signoffs, waiving
from trustplane.registry.repository import tenant_of

router = domain_router(tags=["approvals and waivers"])
P = Permission


@router.post("/model-versions/{version_id}/approvals", status_code=status.HTTP_201_CREATED)
def sign_off(
    version_id: str,
    body: ApprovalCreate,
    actor: Actor = Authenticated(),
    session: Session = Depends(get_session),
) -> SignoffOutcome:
    """Approve or reject the version's artifact for one environment; returns the policy's
    view of the release afterwards (allowed, or what is still missing and from whom)."""
    return release.signoff(session, actor, version_id, body)


@router.get("/model-versions/{version_id}/approvals")
def list_signoffs(
    version_id: str,
    actor: Actor = Require(P.MODEL_READ),
    session: Session = Depends(get_session),
) -> list[ApprovalRead]:
    return signoffs.list_for_version(session, actor, version_id)


@router.post("/waivers", status_code=status.HTTP_201_CREATED)
def request_waiver(
    body: WaiverCreate,
    actor: Actor = RequireInSomeEnvironment(P.WAIVER_REQUEST),
    session: Session = Depends(get_session),
) -> WaiverRead:
    return waiving.request(session, actor, body, utcnow())


@router.get("/waivers")
def list_waivers(
    actor: Actor = Require(P.WAIVER_READ),
    session: Session = Depends(get_session),
    status_: str | None = Query(
        default=None, alias="status", pattern="^(pending|approved|rejected|expired)$"
    ),
    model_version_id: str | None = Query(default=None, max_length=40),
    review_required: bool | None = Query(default=None),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[WaiverRead]:
    items, nxt = waiving.page(
        session,
        actor,
        status=status_,
        model_version_id=model_version_id,
        review_required=review_required,
        cursor=cursor,
        limit=limit,
        now=utcnow(),
    )
    return Page(items=items, next_cursor=nxt)


@router.get("/waivers/report")
def waiver_report(
    actor: Actor = Require(P.WAIVER_READ), session: Session = Depends(get_session)
) -> WaiverReport:
    """Rules waived more than three times in 90 days: candidates to codify in the policy."""
    return waivers.report(session, tenant_of(actor), utcnow())


@router.post("/waivers/sweep")
def sweep_waivers(
    actor: Actor = RequireInSomeEnvironment(P.WAIVER_APPROVE),
    session: Session = Depends(get_session),
) -> SweepRead:
    """Expire due waivers now and flag production versions that relied on them."""
    return waiving.sweep(session, actor, tenant_of(actor), utcnow())


@router.get("/waivers/{waiver_id}")
def get_waiver(
    waiver_id: str, actor: Actor = Require(P.WAIVER_READ), session: Session = Depends(get_session)
) -> WaiverRead:
    return waiving.get(session, actor, waiver_id, utcnow())


@router.post("/waivers/{waiver_id}/approve")
def approve_waiver(
    waiver_id: str,
    body: WaiverDecide,
    actor: Actor = RequireInSomeEnvironment(P.WAIVER_APPROVE),
    session: Session = Depends(get_session),
) -> WaiverRead:
    return waiving.decide(
        session, actor, waiver_id, approve=True, comment=body.comment, now=utcnow()
    )


@router.post("/waivers/{waiver_id}/reject")
def reject_waiver(
    waiver_id: str,
    body: WaiverDecide,
    actor: Actor = RequireInSomeEnvironment(P.WAIVER_APPROVE),
    session: Session = Depends(get_session),
) -> WaiverRead:
    return waiving.decide(
        session, actor, waiver_id, approve=False, comment=body.comment, now=utcnow()
    )
