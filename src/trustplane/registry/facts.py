"""The fact document a policy decision reads (docs/policies.md, "The fact document").

Assembled here, in the registry, from the version, its model and run, what the run read, the
sign-offs and valid waivers for the environment: the policy engine never reads these tables
itself. Every key is always present; an unknown fact is ``null``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit.canonical import rfc3339
from trustplane.identity.actor import Actor
from trustplane.identity.models import Environment
from trustplane.policy import approvals, waivers
from trustplane.registry import completeness, evidence
from trustplane.registry.models import (
    Dataset,
    DatasetVersion,
    Feature,
    FeatureVersion,
    Model,
    ModelTransition,
    ModelVersion,
    Run,
)
from trustplane.registry.repository import trained_on

SCHEMA = "trustplane.policy.input/v1"


def submitted_by(session: Session, version: ModelVersion) -> str | None:
    """Who last submitted the version (draft to candidate), from its transitions."""
    return session.scalar(
        select(ModelTransition.actor_id)
        .where(
            ModelTransition.tenant_id == version.tenant_id,
            ModelTransition.model_version_id == version.id,
            ModelTransition.action == "submit",
        )
        .order_by(ModelTransition.id.desc())
        .limit(1)
    )


def build(
    session: Session,
    actor: Actor,
    checkpoint: str,
    version: ModelVersion,
    model: Model,
    environment: Environment | None,
    *,
    promotion: dict[str, Any] | None,
    now: datetime,
    runtime: dict[str, Any] | None = None,
) -> dict[str, Any]:
    run = session.get(Run, version.run_id) if version.run_id else None
    lineage = lineage_of(session, run)
    unapproved = sum(1 for d in lineage["datasets"] if d["approval_status"] != "approved")
    report = completeness.check(
        evidence.evidence_of(version, model, run, len(lineage["datasets"]), unapproved),
        evidence.overrides(session, model.tenant_id),
    )
    facts: dict[str, Any] = {
        "schema": SCHEMA,
        "checkpoint": checkpoint,
        "at": rfc3339(now),
        "requester": {"id": actor.principal_id, "name": actor.name, "kind": actor.kind},
        "model": model_facts(model),
        "version": {
            "id": version.id,
            "version": version.version,
            "artifact_digest": version.artifact_digest,
            "state": version.state,
            "submitted_by": submitted_by(session, version),
            "validated_by": version.validated_by,
            "metrics": dict(version.metrics or {}),
            "evaluations": [_evaluation(e) for e in version.evaluations or []],
            "tags": dict(version.tags or {}),
        },
        "run": _run(run),
        "evidence": {
            "risk_tier": report.risk_tier,
            "required": report.required,
            "missing": report.missing,
        },
        "lineage": lineage,
        "environment": _environment(environment),
        "approvals": _approvals(session, version, environment),
        "waivers": _waivers(session, version, environment, now),
        "promotion": promotion,
    }
    if runtime is not None:
        facts["runtime"] = runtime
    return facts


def model_facts(model: Model) -> dict[str, Any]:
    """What a model's registration states: owner, purpose, limits and risk."""
    return {
        "id": model.id,
        "name": model.name,
        "owner": model.owner,
        "intended_use": model.intended_use,
        "out_of_scope_uses": list(model.out_of_scope_uses or []),
        "limitations": list(model.limitations or []),
        "risk_tier": model.risk_tier,
        "business_unit": model.business_unit,
        "regulatory_tags": list(model.regulatory_tags or []),
    }


def _evaluation(raw: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "passed", "value", "threshold", "metric", "group")
    return {k: raw.get(k) for k in keys}


def _run(run: Run | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": run.id,
        "actor": run.actor_id,
        "code_repo": run.code_repo,
        "commit_sha": run.commit_sha,
        "env_fingerprint": run.env_fingerprint,
        "parameters": dict(run.parameters or {}),
        "metrics": dict(run.metrics or {}),
    }


def lineage_of(session: Session, run: Run | None) -> dict[str, Any]:
    """The dataset and feature versions ``run`` read, as the fact document lists them."""
    if run is None:
        return {"datasets": [], "features": []}
    dataset_ids, feature_ids = trained_on(session, run.tenant_id, run.id)
    datasets = session.execute(
        select(DatasetVersion, Dataset.name)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(DatasetVersion.id.in_(dataset_ids))
        .order_by(DatasetVersion.id)
    ).all()
    features = session.execute(
        select(FeatureVersion, Feature.name)
        .join(Feature, Feature.id == FeatureVersion.feature_id)
        .where(FeatureVersion.id.in_(feature_ids))
        .order_by(FeatureVersion.id)
    ).all()
    return {
        "datasets": [
            {
                "id": dv.id,
                "name": name,
                "version": dv.version,
                "digest": dv.digest,
                "sensitivity": dv.sensitivity,
                "region": dv.region,
                "approval_status": dv.approval_status,
                "approved_by": dv.approved_by,
                "flagged_for_removal": dv.flagged_for_removal,
                "flag_reason": dv.flag_reason,
            }
            for dv, name in datasets
        ],
        "features": [
            {
                "id": fv.id,
                "name": name,
                "version": fv.version,
                "review_status": fv.review_status,
                "deprecated": fv.deprecated,
                "deprecation_reason": fv.deprecation_reason,
            }
            for fv, name in features
        ],
    }


def _environment(env: Environment | None) -> dict[str, Any] | None:
    if env is None:
        return None
    return {
        "id": env.id,
        "name": env.name,
        "region": env.region,
        "sensitivity_ceiling": env.sensitivity_ceiling,
    }


def _approvals(
    session: Session, version: ModelVersion, env: Environment | None
) -> list[dict[str, Any]]:
    rows = approvals.for_version(session, version.tenant_id, version.id, env.id if env else None)
    return [
        {
            "id": r.id,
            "principal_id": r.principal_id,
            "principal": r.principal_name,
            "role": r.role,
            "decision": r.decision,
            "artifact_digest": r.artifact_digest,
            "environment": env.name if env and r.environment_id else None,
            "at": rfc3339(r.at),
        }
        for r in rows
    ]


def _waivers(
    session: Session, version: ModelVersion, env: Environment | None, now: datetime
) -> list[dict[str, Any]]:
    if env is None:
        return []
    rows = waivers.valid_for(session, version.tenant_id, version.id, env.id, now)
    return [
        {"id": w.id, "rule_ids": list(w.rule_ids), "expires_at": rfc3339(w.expires_at)}
        for w in rows
    ]
