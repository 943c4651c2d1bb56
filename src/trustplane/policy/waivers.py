"""Waivers: explicit, time-bound, approved passes for named rules on one version and place.

A waiver is requested (with reason, compensating control, expiry and review date), then
approved or rejected by someone else holding ``waiver.approve``. It is valid while approved
and unexpired; validity is decided by the clock at decision time, so an expired waiver stops
counting at once, even before a sweep records its expiry. Every function takes ``now`` so
tests move time instead of sleeping.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor, Target, record
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id
from trustplane.db.pagination import keyset_page
from trustplane.errors import Conflict, Forbidden, InvalidInput, NotFound
from trustplane.policy.models import Waiver
from trustplane.policy.schemas import CodificationCandidate, WaiverRead, WaiverReport

DEFAULT_MAX_DAYS = 90
REPORT_WINDOW_DAYS = 90
REPORT_THRESHOLD = 3  # a rule waived more often than this in the window is a candidate


@dataclass(frozen=True, slots=True)
class WaiverAsk:
    """A waiver request, with the ids the registry resolved (version, environment)."""

    tenant_id: str
    model_version_id: str
    label: str
    environment_id: str
    environment: str
    rule_ids: list[str]
    reason: str
    compensating_control: str
    expires_at: datetime
    review_at: datetime | None


def request(
    session: Session, actor: AuditActor, ask: WaiverAsk, *, max_days: int, now: datetime
) -> Waiver:
    """Record a pending waiver; refuse a past expiry, one beyond the cap, a bad review date."""
    if ask.expires_at <= now:
        raise InvalidInput("a waiver's expiry must be in the future")
    cap = now + timedelta(days=max_days)
    if ask.expires_at > cap:
        raise InvalidInput(
            f"a waiver may last at most {max_days} days (the policy's cap):"
            f" expiry {ask.expires_at.isoformat()} is after {cap.isoformat()}"
        )
    review = ask.review_at or now + (ask.expires_at - now) / 2
    if not now < review <= ask.expires_at:
        raise InvalidInput("a waiver's review date must fall between now and its expiry")
    rules = sorted(set(ask.rule_ids))
    row = Waiver(
        id=new_id("wv"),
        tenant_id=ask.tenant_id,
        model_version_id=ask.model_version_id,
        environment_id=ask.environment_id,
        rule_ids=rules,
        reason=ask.reason,
        compensating_control=ask.compensating_control,
        expires_at=ask.expires_at,
        review_at=review,
        status="pending",
        requested_by=actor.principal_id,
        requested_at=now,
        review_required=False,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor,
        "waiver.request",
        Target("waiver", row.id),
        details=EventDetails(
            environment=ask.environment,
            reason=ask.reason,
            payload={
                "model_version_id": ask.model_version_id,
                "rule_ids": rules,
                "compensating_control": ask.compensating_control,
                "expires_at": ask.expires_at.isoformat(),
                "review_at": review.isoformat(),
            },
        ),
    )
    return row


def decide(
    session: Session,
    actor: AuditActor,
    waiver_id: str,
    *,
    approve: bool,
    comment: str,
    environment: str,
    now: datetime,
) -> Waiver:
    """Approve or reject a pending waiver; never by the person who asked for it."""
    row = load(session, actor, waiver_id, lock=True)
    verb = "approve" if approve else "reject"
    if row.requested_by == actor.principal_id:
        raise Forbidden(
            "a waiver cannot be approved or rejected by the person who requested it",
            action=f"waiver.{verb}",
            target_kind="waiver",
            target_id=row.id,
            environment=environment,
        )
    if row.status != "pending":
        raise Conflict(f"waiver {row.id} is {row.status}, not pending")
    if approve and row.expires_at <= now:
        raise Conflict(f"waiver {row.id} expired at {row.expires_at.isoformat()}")
    row.status = "approved" if approve else "rejected"
    row.decided_by = actor.principal_id
    row.decided_at = now
    row.decision_comment = comment
    session.flush()
    record(
        session,
        actor,
        f"waiver.{verb}",
        Target("waiver", row.id),
        details=EventDetails(
            environment=environment,
            reason=comment,
            payload={"model_version_id": row.model_version_id, "rule_ids": row.rule_ids},
        ),
    )
    return row


def valid_for(
    session: Session, tenant_id: str, version_id: str, environment_id: str, now: datetime
) -> list[Waiver]:
    return list(
        session.scalars(
            select(Waiver)
            .where(
                Waiver.tenant_id == tenant_id,
                Waiver.model_version_id == version_id,
                Waiver.environment_id == environment_id,
                Waiver.status == "approved",
                Waiver.expires_at > now,
            )
            .order_by(Waiver.id)
        )
    )


def expire_due(session: Session, actor: AuditActor, tenant_id: str, now: datetime) -> list[Waiver]:
    """Mark approved waivers past their expiry as expired, one audit event each."""
    rows = list(
        session.scalars(
            select(Waiver)
            .where(
                Waiver.tenant_id == tenant_id,
                Waiver.status == "approved",
                Waiver.expires_at <= now,
            )
            .order_by(Waiver.id)
            .with_for_update()
        )
    )
    for row in rows:
        row.status = "expired"
        row.expired_at = now
        session.flush()
        record(
            session,
            actor,
            "waiver.expired",
            Target("waiver", row.id),
            tenant_id=tenant_id,
            details=EventDetails(
                payload={
                    "model_version_id": row.model_version_id,
                    "rule_ids": row.rule_ids,
                    "expires_at": row.expires_at.isoformat(),
                }
            ),
        )
    return rows


def load(session: Session, actor: AuditActor, waiver_id: str, *, lock: bool = False) -> Waiver:
    row = session.get(Waiver, waiver_id, with_for_update=lock)
    if row is None or row.tenant_id != actor.tenant_id:
        raise NotFound(f"waiver {waiver_id} not found")
    return row


def page(
    session: Session,
    tenant_id: str,
    *,
    status: str | None,
    model_version_id: str | None,
    review_required: bool | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Waiver], str | None]:
    query = select(Waiver).where(Waiver.tenant_id == tenant_id)
    if status is not None:
        query = query.where(Waiver.status == status)
    if model_version_id is not None:
        query = query.where(Waiver.model_version_id == model_version_id)
    if review_required is not None:
        query = query.where(Waiver.review_required == review_required)
    return keyset_page(session, query, Waiver.id, cursor, limit)


def read(row: Waiver, environment: str, now: datetime) -> WaiverRead:
    return WaiverRead(
        id=row.id,
        model_version_id=row.model_version_id,
        environment=environment,
        rule_ids=list(row.rule_ids),
        reason=row.reason,
        compensating_control=row.compensating_control,
        expires_at=row.expires_at,
        review_at=row.review_at,
        status=row.status,
        valid=row.status == "approved" and row.expires_at > now,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_comment=row.decision_comment,
        expired_at=row.expired_at,
        review_required=row.review_required,
    )


def report(session: Session, tenant_id: str, now: datetime) -> WaiverReport:
    """Rules waived more than three times in 90 days: candidates to codify in the policy."""
    since = now - timedelta(days=REPORT_WINDOW_DAYS)
    rows = session.scalars(
        select(Waiver).where(
            Waiver.tenant_id == tenant_id,
            Waiver.status.in_(("approved", "expired")),
            Waiver.decided_at >= since,
        )
    )
    count: dict[str, int] = defaultdict(int)
    versions: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for rule in row.rule_ids:
            count[rule] += 1
            versions[rule].add(row.model_version_id)
    candidates = [
        CodificationCandidate(rule_id=r, waivers=n, versions=len(versions[r]), since=since)
        for r, n in sorted(count.items(), key=lambda item: (-item[1], item[0]))
        if n > REPORT_THRESHOLD
    ]
    return WaiverReport(
        window_days=REPORT_WINDOW_DAYS, threshold=REPORT_THRESHOLD, candidates=candidates
    )
