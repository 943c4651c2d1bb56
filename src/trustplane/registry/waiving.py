"""Waivers in the registry's terms: a version and an environment by name, the policy's cap,
and the sweep that expires waivers and flags production versions that relied on them.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from trustplane.audit import AuditActor, Origin, Target, record
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id
from trustplane.db.session import scope_to_tenant, system_scope, unit_of_work
from trustplane.identity.actor import Actor
from trustplane.identity.models import Environment
from trustplane.identity.roles import Permission
from trustplane.policy import store, waivers
from trustplane.policy.models import Decision, Waiver
from trustplane.policy.schemas import SweepRead, WaiverCreate, WaiverRead
from trustplane.registry import versions
from trustplane.registry.models import Model, ProductionPointer
from trustplane.registry.repository import environment_by_name, environment_names, tenant_of

log = logging.getLogger("trustplane.registry.waiving")


def max_days(session: Session, tenant_id: str) -> int:
    """The active policy's cap on a waiver's life (``config.waivers.max_days``)."""
    section = store.config(store.active(session, tenant_id)).get("waivers")
    found = section.get("max_days") if isinstance(section, dict) else None
    if isinstance(found, int) and not isinstance(found, bool) and found > 0:
        return found
    return waivers.DEFAULT_MAX_DAYS


def request(session: Session, actor: Actor, data: WaiverCreate, now: datetime) -> WaiverRead:
    tenant = tenant_of(actor)
    version = versions.load(session, actor, data.model_version_id)
    model = session.get_one(Model, version.model_id)
    env = environment_by_name(session, tenant, data.environment)
    actor.require(
        Permission.WAIVER_REQUEST,
        target_kind="model_version",
        target_id=version.id,
        environment_id=env.id,
        environment=env.name,
        action="waiver.request",
    )
    row = waivers.request(
        session,
        actor,
        waivers.WaiverAsk(
            tenant_id=tenant,
            model_version_id=version.id,
            label=f"{model.name}@{version.version}",
            environment_id=env.id,
            environment=env.name,
            rule_ids=list(data.rule_ids),
            reason=data.reason,
            compensating_control=data.compensating_control,
            expires_at=data.expires_at,
            review_at=data.review_at,
        ),
        max_days=max_days(session, tenant),
        now=now,
    )
    return waivers.read(row, env.name, now)


def decide(
    session: Session, actor: Actor, waiver_id: str, *, approve: bool, comment: str, now: datetime
) -> WaiverRead:
    row = waivers.load(session, actor, waiver_id)
    env = session.get_one(Environment, row.environment_id)
    verb = "approve" if approve else "reject"
    actor.require(
        Permission.WAIVER_APPROVE,
        target_kind="waiver",
        target_id=row.id,
        environment_id=env.id,
        environment=env.name,
        action=f"waiver.{verb}",
    )
    decided = waivers.decide(
        session, actor, waiver_id, approve=approve, comment=comment, environment=env.name, now=now
    )
    return waivers.read(decided, env.name, now)


def get(session: Session, actor: AuditActor, waiver_id: str, now: datetime) -> WaiverRead:
    row = waivers.load(session, actor, waiver_id)
    return waivers.read(row, session.get_one(Environment, row.environment_id).name, now)


def page(
    session: Session,
    actor: AuditActor,
    *,
    status: str | None,
    model_version_id: str | None,
    review_required: bool | None,
    cursor: str | None,
    limit: int,
    now: datetime,
) -> tuple[list[WaiverRead], str | None]:
    rows, nxt = waivers.page(
        session,
        tenant_of(actor),
        status=status,
        model_version_id=model_version_id,
        review_required=review_required,
        cursor=cursor,
        limit=limit,
    )
    names = environment_names(session, (r.environment_id for r in rows))
    return [waivers.read(r, names[r.environment_id], now) for r in rows], nxt


def sweep(session: Session, actor: AuditActor, tenant_id: str, now: datetime) -> SweepRead:
    """Expire what is due; flag production versions whose promotion relied on an expired one.

    "Relied on": an allowed promotion decision of that version in that environment listed the
    waiver among its waived violations, and the version still holds the production pointer.
    """
    expired = waivers.expire_due(session, actor, tenant_id, now)
    flagged: list[str] = []
    for row in expired:
        if _relied_on(session, row) and _in_production(session, row):
            row.review_required = True
            session.flush()
            record(
                session,
                actor,
                "model.review_required",
                Target("model_version", row.model_version_id),
                tenant_id=tenant_id,
                details=EventDetails(
                    reason=f"waiver {row.id} expired; the version is in production under it",
                    payload={"waiver_id": row.id, "rule_ids": row.rule_ids},
                ),
            )
            flagged.append(row.model_version_id)
    names = environment_names(session, (r.environment_id for r in expired))
    return SweepRead(
        expired=[waivers.read(r, names[r.environment_id], now) for r in expired],
        flagged_for_review=sorted(set(flagged)),
    )


def _relied_on(session: Session, waiver: Waiver) -> bool:
    env = session.get_one(Environment, waiver.environment_id)
    rows = session.scalars(
        select(Decision.waived).where(
            Decision.tenant_id == waiver.tenant_id,
            Decision.model_version_id == waiver.model_version_id,
            Decision.checkpoint == "promote",
            Decision.allowed.is_(True),
            Decision.environment == env.name,
        )
    )
    return any(w.get("waiver_id") == waiver.id for waived in rows for w in waived)


def _in_production(session: Session, waiver: Waiver) -> bool:
    found = session.scalar(
        select(ProductionPointer.model_version_id).where(
            ProductionPointer.tenant_id == waiver.tenant_id,
            ProductionPointer.environment_id == waiver.environment_id,
            ProductionPointer.model_version_id == waiver.model_version_id,
        )
    )
    return found is not None


def sweep_all(factory: sessionmaker[Session], now: datetime) -> int:
    """The server's periodic sweep: each tenant with a waiver due, in its own transaction.

    Returns how many waivers expired; a failing tenant is logged and spares the others.
    """
    with factory() as session, system_scope(session):
        tenants = list(
            session.scalars(
                select(Waiver.tenant_id)
                .where(Waiver.status == "approved", Waiver.expires_at <= now)
                .distinct()
            )
        )
    expired = 0
    for tenant_id in tenants:
        try:
            with unit_of_work(factory) as session:
                scope_to_tenant(session, tenant_id)
                actor = Actor.local_system(
                    Origin(correlation_id=f"sweep-{new_id('job')}"), tenant_id
                )
                expired += len(sweep(session, actor, tenant_id, now).expired)
        except Exception:
            log.exception("waiver sweep failed", extra={"tenant_id": tenant_id})
    return expired
