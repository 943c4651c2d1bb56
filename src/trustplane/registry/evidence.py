"""Gathering a model version's evidence, and the tenant's completeness rules.

The pure rules are in :mod:`trustplane.registry.completeness`; this module reads the facts
(the model, the producing run, what that run read) and stores a tenant's overrides.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor, Target, record
from trustplane.audit.events import EventDetails
from trustplane.db.base import utcnow
from trustplane.errors import InvalidInput
from trustplane.registry import completeness
from trustplane.registry.models import (
    CompletenessRule,
    DatasetVersion,
    Model,
    ModelVersion,
    Run,
)
from trustplane.registry.repository import tenant_of, trained_on
from trustplane.registry.schemas import CompletenessReport, CompletenessRuleRead


def gather(session: Session, version: ModelVersion, model: Model) -> completeness.Evidence:
    """The facts the completeness rules look at, read in a handful of queries."""
    run = session.get(Run, version.run_id) if version.run_id else None
    datasets = trained_on(session, run.tenant_id, run.id)[0] if run is not None else []
    unapproved = 0
    if datasets:
        unapproved = int(
            session.scalar(
                select(func.count())
                .select_from(DatasetVersion)
                .where(
                    DatasetVersion.id.in_(datasets),
                    DatasetVersion.approval_status != "approved",
                )
            )
            or 0
        )
    return evidence_of(version, model, run, len(datasets), unapproved)


def evidence_of(
    version: ModelVersion, model: Model, run: Run | None, datasets: int, unapproved: int
) -> completeness.Evidence:
    """The evidence from rows already read (the policy's fact assembly reads them anyway)."""
    evaluations = version.evaluations or []
    return completeness.Evidence(
        risk_tier=model.risk_tier,
        owner=bool(model.owner),
        intended_use=bool(model.intended_use),
        out_of_scope_uses=bool(model.out_of_scope_uses),
        producing_run=run is not None,
        dataset_versions=datasets,
        unapproved_datasets=unapproved,
        code_commit=bool(run and run.commit_sha),
        env_fingerprint=bool(run and run.env_fingerprint),
        metrics=bool(version.metrics or (run and run.metrics)),
        evaluations=len(evaluations),
        failed_evaluations=sum(1 for e in evaluations if not e.get("passed")),
    )


def overrides(session: Session, tenant_id: str) -> dict[str, list[str]]:
    rows = session.scalars(select(CompletenessRule).where(CompletenessRule.tenant_id == tenant_id))
    return {r.risk_tier: list(r.required) for r in rows}


def report(session: Session, version: ModelVersion, model: Model) -> completeness.Report:
    return completeness.check(gather(session, version, model), overrides(session, model.tenant_id))


def as_read(result: completeness.Report) -> CompletenessReport:
    return CompletenessReport(
        risk_tier=result.risk_tier,
        required=result.required,
        present=result.present,
        missing=result.missing,
        complete=result.complete,
    )


def list_rules(session: Session, actor: AuditActor) -> list[CompletenessRuleRead]:
    """Every tier's rule: the tenant's override where there is one, else the default."""
    stored = overrides(session, tenant_of(actor))
    return [
        CompletenessRuleRead(
            risk_tier=tier,
            required=stored.get(tier, [i.value for i in completeness.DEFAULT_RULES[tier]]),
            source="tenant" if tier in stored else "default",
        )
        for tier in completeness.RISK_TIERS
    ]


def set_rule(
    session: Session, actor: AuditActor, tier: str, required: list[str]
) -> CompletenessRuleRead:
    """Replace the evidence ``tier`` requires in this tenant."""
    tenant = tenant_of(actor)
    if tier not in completeness.RISK_TIERS:
        raise InvalidInput(f"risk tier must be one of {', '.join(completeness.RISK_TIERS)}")
    try:
        completeness.parse_items(required)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    rule = session.get(CompletenessRule, (tenant, tier), with_for_update=True)
    if rule is None:
        rule = CompletenessRule(tenant_id=tenant, risk_tier=tier)
        session.add(rule)
    rule.required = list(required)
    rule.updated_at = utcnow()
    rule.updated_by = actor.principal_id
    session.flush()
    record(
        session,
        actor,
        "completeness.set",
        Target("completeness_rule", tier),
        details=EventDetails(payload={"required": list(required)}),
    )
    return CompletenessRuleRead(risk_tier=tier, required=list(required), source="tenant")
