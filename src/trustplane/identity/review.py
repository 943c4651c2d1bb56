"""Access review: the bindings a reviewer should look at, and why."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.db.base import utcnow
from trustplane.identity.actor import Actor
from trustplane.identity.models import Binding, Principal
from trustplane.identity.schemas import AccessReview, BindingRead, Finding, ReviewFinding

REVIEW_LIMIT = 10_000


def review(
    session: Session, actor: Actor, expiring_within_days: int, unused_for_days: int
) -> AccessReview:
    """Unrevoked bindings that are expired, expire soon, went unused, or whose holder is disabled.

    "Unused" means no request was authorised through the binding for ``unused_for_days``
    (or ever, for a binding at least that old).
    """
    now = utcnow()
    soon = now + timedelta(days=expiring_within_days)
    idle = now - timedelta(days=unused_for_days)
    rows = session.execute(
        select(Binding, Principal)
        .join(Principal, Principal.id == Binding.principal_id)
        .where(Binding.tenant_id == actor.tenant_id, Binding.revoked_at.is_(None))
        .order_by(Binding.id)
        .limit(REVIEW_LIMIT)
    ).all()
    findings: list[ReviewFinding] = []
    for binding, principal in rows:
        reasons: list[Finding] = []
        if binding.expires_at is not None and binding.expires_at <= now:
            reasons.append("expired")
        elif binding.expires_at is not None and binding.expires_at <= soon:
            reasons.append("expiring")
        last = binding.last_used_at or binding.created_at
        if last <= idle:
            reasons.append("unused")
        if principal.disabled_at is not None:
            reasons.append("principal-disabled")
        if reasons:
            findings.append(
                ReviewFinding(
                    binding=BindingRead.model_validate(binding),
                    principal_name=principal.name,
                    reasons=reasons,
                )
            )
    return AccessReview(
        generated_at=now,
        expiring_within_days=expiring_within_days,
        unused_for_days=unused_for_days,
        findings=findings,
    )
