"""Card facts: what the registry and the audit trail recorded about one model version.

A model card must not say more than was recorded, so it is gathered, never written: the
model's registry fields (intended use, out-of-scope uses, limitations as entered), the version,
its producing run and what that run read, evaluations, the policy decisions, sign-offs and
waivers about the version, and where it is or was in production. Values pass through as
stored; an unknown fact is ``None`` (or an empty list or map) and the card says "not recorded".
The only computed numbers are the fairness gaps (see ``card.fairness_by_group``).

``card_facts`` is plain JSON (strings, numbers, booleans, lists, maps, None; times RFC 3339),
so an evidence bundle can embed and hash it as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor
from trustplane.audit.canonical import rfc3339
from trustplane.db.base import utcnow
from trustplane.errors import InvalidInput
from trustplane.evidence.card import fairness_by_group, render_html, render_markdown
from trustplane.identity.models import Principal
from trustplane.policy import approvals, waivers
from trustplane.policy.models import Approval, Decision, Waiver
from trustplane.registry import versions
from trustplane.registry.facts import model_facts
from trustplane.registry.models import (
    Dataset,
    DatasetVersion,
    Feature,
    FeatureVersion,
    Model,
    ModelTransition,
    ModelVersion,
    PointerHistory,
    Run,
)
from trustplane.registry.repository import environment_names, pointer_envs, trained_on
from trustplane.registry.transitions import release_id_of

SCHEMA = "trustplane.model-card/v1"
_NUMBER = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True, slots=True)
class Card:
    """A version's card: the facts and their two renderings."""

    facts: dict[str, Any]
    markdown: str
    html: str


def version_card(
    session: Session, actor: AuditActor, ref: str, *, now: datetime | None = None
) -> Card:
    """The card of version ``ref`` (``mv_...`` or ``MODEL@N``) of the actor's tenant."""
    version = resolve_version(session, actor, ref)
    model = session.get_one(Model, version.model_id)
    facts = card_facts(session, version, model, now=now)
    return Card(facts, render_markdown(facts), render_html(facts))


def resolve_version(session: Session, actor: AuditActor, ref: str) -> ModelVersion:
    """A version by id, or by model (name or id) and number; NotFound in another tenant."""
    ref = ref.strip()
    if ref.startswith("mv_"):
        return versions.load(session, actor, ref)
    model_ref, at, number = ref.rpartition("@")
    if not at or not model_ref or not _NUMBER.fullmatch(number) or int(number) < 1:
        raise InvalidInput(
            f"'{ref}' names no model version: give a version id (mv_...) or MODEL@N"
            " (a model name or id and a version number)"
        )
    return versions.by_number(session, actor, model_ref, int(number))


def card_facts(
    session: Session, version: ModelVersion, model: Model, *, now: datetime | None = None
) -> dict[str, Any]:
    """Everything the card shows, read from the registry and policy records of the version."""
    at = now or utcnow()
    tenant = version.tenant_id
    run = session.get(Run, version.run_id) if version.run_id else None
    datasets, features = _inputs(session, run)
    decisions = _rows(session, Decision, tenant, version.id)
    signoffs = approvals.all_for_version(session, tenant, version.id)
    waived = _rows(session, Waiver, tenant, version.id)
    stints = _pointer_history(session, version)
    envs = environment_names(
        session,
        [a.environment_id for a in signoffs]
        + [w.environment_id for w in waived]
        + [p.environment_id for p in stints],
    )
    people = _People.of(
        session,
        tenant,
        [model.created_by, version.created_by, version.validated_by]
        + ([run.actor_id] if run else [])
        + [dv.approved_by for dv, _, _ in datasets]
        + [fv.reviewed_by for fv, _ in features]
        + [d.actor_id for d in decisions]
        + [w.requested_by for w in waived]
        + [w.decided_by for w in waived]
        + [p.actor_id for p in stints],
    )
    evaluations = [_evaluation(e) for e in version.evaluations or []]
    return {
        "schema": SCHEMA,
        "generated_at": rfc3339(at),
        "tenant_id": tenant,
        "model": _model(model, people),
        "version": _version(session, version, model, people),
        "training": _training(run, people),
        "data": {
            "datasets": [_dataset(dv, ns, name, people) for dv, ns, name in datasets],
            "features": [_feature(fv, name, people) for fv, name in features],
        },
        "metrics": dict(version.metrics or {}),
        "evaluations": evaluations,
        "fairness": fairness_by_group(evaluations),
        "decisions": [_decision(d, people) for d in decisions],
        "approvals": [_approval(a, version, envs) for a in signoffs],
        "waivers": [_waiver(w, envs, people, at) for w in waived],
        "releases": _releases(session, version, stints, envs, people),
    }


class _People:
    """Principal names by id, read once; an id with no principal (``system``) keeps no name."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    @classmethod
    def of(cls, session: Session, tenant: str, ids: Iterable[str | None]) -> _People:
        wanted = {i for i in ids if i}
        if not wanted:
            return cls({})
        rows = session.execute(
            select(Principal.id, Principal.name).where(
                Principal.tenant_id == tenant, Principal.id.in_(wanted)
            )
        )
        return cls({pid: name for pid, name in rows})

    def __call__(self, principal_id: str | None, name: str | None = None) -> dict[str, Any] | None:
        if not principal_id:
            return None
        return {"id": principal_id, "name": name or self.names.get(principal_id)}


def _time(value: datetime | None) -> str | None:
    return rfc3339(value) if value is not None else None


def _model(model: Model, who: _People) -> dict[str, Any]:
    return {
        **model_facts(model),
        "description": model.description,
        "registered_at": rfc3339(model.created_at),
        "registered_by": who(model.created_by),
    }


def _version(session: Session, version: ModelVersion, model: Model, who: _People) -> dict[str, Any]:
    return {
        "id": version.id,
        "version": version.version,
        "label": f"{model.name}@{version.version}",
        "artifact_digest": version.artifact_digest,
        "artifact_uri": version.artifact_uri,
        "description": version.description,
        "state": version.state,
        "production_in": pointer_envs(session, [version.id])[version.id],
        "tags": dict(version.tags or {}),
        "created_at": rfc3339(version.created_at),
        "created_by": who(version.created_by),
        "validated_at": _time(version.validated_at),
        "validated_by": who(version.validated_by),
    }


def _training(run: Run | None, who: _People) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "run_id": run.id,
        "by": who(run.actor_id),
        "code_repo": run.code_repo,
        "commit_sha": run.commit_sha,
        "env_fingerprint": run.env_fingerprint,
        "parameters": dict(run.parameters or {}),
        "metrics": dict(run.metrics or {}),
        "status": run.status,
        "started_at": _time(run.started_at),
        "ended_at": _time(run.ended_at),
        "job": f"{run.job_namespace}/{run.job_name}" if run.job_name else None,
    }


def _inputs(
    session: Session, run: Run | None
) -> tuple[list[tuple[DatasetVersion, str, str]], list[tuple[FeatureVersion, str]]]:
    """The dataset and feature versions the run read (datasets also through its features)."""
    if run is None:
        return [], []
    dataset_ids, feature_ids = trained_on(session, run.tenant_id, run.id)
    datasets = session.execute(
        select(DatasetVersion, Dataset.namespace, Dataset.name)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(DatasetVersion.tenant_id == run.tenant_id, DatasetVersion.id.in_(dataset_ids))
        .order_by(DatasetVersion.id)
    ).all()
    features = session.execute(
        select(FeatureVersion, Feature.name)
        .join(Feature, Feature.id == FeatureVersion.feature_id)
        .where(FeatureVersion.tenant_id == run.tenant_id, FeatureVersion.id.in_(feature_ids))
        .order_by(FeatureVersion.id)
    ).all()
    return [(dv, ns, name) for dv, ns, name in datasets], [(fv, name) for fv, name in features]


def _dataset(dv: DatasetVersion, namespace: str, name: str, who: _People) -> dict[str, Any]:
    return {
        "id": dv.id,
        "namespace": namespace,
        "name": name,
        "version": dv.version,
        "uri": dv.uri,
        "digest": dv.digest,
        "sensitivity": dv.sensitivity,
        "region": dv.region,
        "approval_status": dv.approval_status,
        "approved_by": who(dv.approved_by),
        "approved_at": _time(dv.approved_at),
        "flagged_for_removal": dv.flagged_for_removal,
        "flag_reason": dv.flag_reason,
    }


def _feature(fv: FeatureVersion, name: str, who: _People) -> dict[str, Any]:
    return {
        "id": fv.id,
        "name": name,
        "version": fv.version,
        "review_status": fv.review_status,
        "reviewed_by": who(fv.reviewed_by),
        "deprecated": fv.deprecated,
        "deprecation_reason": fv.deprecation_reason,
    }


def _evaluation(raw: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "metric", "group", "value", "threshold", "passed")
    return {k: raw.get(k) for k in keys}


def _rows(
    session: Session, table: type[Decision] | type[Waiver], tenant: str, version_id: str
) -> list[Any]:
    return list(
        session.scalars(
            select(table)
            .where(table.tenant_id == tenant, table.model_version_id == version_id)
            .order_by(table.id)
        )
    )


def _decision(row: Decision, who: _People) -> dict[str, Any]:
    return {
        "id": row.id,
        "checkpoint": row.checkpoint,
        "environment": row.environment,
        "allowed": row.allowed,
        "bundle_digest": row.bundle_digest,
        "input_digest": row.input_digest,
        "violations": [
            {k: v.get(k) for k in ("id", "message", "remediation", "owner_role")}
            for v in row.violations
        ],
        "waived": [{k: v.get(k) for k in ("id", "waiver_id")} for v in row.waived],
        "at": rfc3339(row.at),
        "by": who(row.actor_id),
        "event_id": row.event_id,
    }


def _approval(row: Approval, version: ModelVersion, envs: dict[str, str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "by": {"id": row.principal_id, "name": row.principal_name},
        "role": row.role,
        "decision": row.decision,
        "environment": envs.get(row.environment_id) if row.environment_id else None,
        "all_environments": row.environment_id is None,
        "artifact_digest": row.artifact_digest,
        "for_current_artifact": row.artifact_digest == version.artifact_digest,
        "comment": row.comment,
        "at": rfc3339(row.at),
        "event_id": row.event_id,
    }


def _waiver(row: Waiver, envs: dict[str, str], who: _People, now: datetime) -> dict[str, Any]:
    env = envs.get(row.environment_id, row.environment_id)
    return {
        "id": row.id,
        "rule_ids": list(row.rule_ids),
        "environment": env,
        "reason": row.reason,
        "compensating_control": row.compensating_control,
        "status": row.status,
        "valid_at_generation": waivers.read(row, env, now).valid,
        "expires_at": rfc3339(row.expires_at),
        "review_at": rfc3339(row.review_at),
        "requested_by": who(row.requested_by),
        "requested_at": rfc3339(row.requested_at),
        "decided_by": who(row.decided_by),
        "decided_at": _time(row.decided_at),
        "decision_comment": row.decision_comment,
    }


def _pointer_history(session: Session, version: ModelVersion) -> list[PointerHistory]:
    """Pointer changes of the model in each environment the version ever held."""
    held = select(PointerHistory.environment_id).where(
        PointerHistory.tenant_id == version.tenant_id,
        PointerHistory.model_version_id == version.id,
    )
    return list(
        session.scalars(
            select(PointerHistory)
            .where(
                PointerHistory.tenant_id == version.tenant_id,
                PointerHistory.model_id == version.model_id,
                PointerHistory.environment_id.in_(held),
            )
            .order_by(PointerHistory.environment_id, PointerHistory.valid_from, PointerHistory.id)
        )
    )


def _releases(
    session: Session,
    version: ModelVersion,
    history: list[PointerHistory],
    envs: dict[str, str],
    who: _People,
) -> list[dict[str, Any]]:
    """Each time the version took an environment's production pointer, and how it ended."""
    steps = {
        t.event_id: t
        for t in session.scalars(
            select(ModelTransition).where(
                ModelTransition.tenant_id == version.tenant_id,
                ModelTransition.event_id.in_({h.event_id for h in history}),
                ModelTransition.action != "replaced",
            )
        )
    }
    found = []
    for i, row in enumerate(history):
        if row.model_version_id != version.id:
            continue
        after = history[i + 1] if i + 1 < len(history) else None
        end = after if after is not None and after.environment_id == row.environment_id else None
        step = steps.get(row.event_id)
        found.append(
            {
                "id": release_id_of(step.id) if step and step.action == "promote" else None,
                "environment": envs.get(row.environment_id, row.environment_id),
                "promoted_at": rfc3339(row.valid_from),
                "promoted_by": who(row.actor_id, step.actor_name if step else None),
                "intent": row.intent,
                "event_id": row.event_id,
                "current": end is None,
                "ended": _ended(end, steps, who) if end is not None else None,
            }
        )
    return sorted(found, key=lambda r: (r["promoted_at"], r["environment"]))


def _ended(end: PointerHistory, steps: dict[str, ModelTransition], who: _People) -> dict[str, Any]:
    step = steps.get(end.event_id)
    return {
        "at": rfc3339(end.valid_from),
        "action": "replaced" if end.model_version_id else end.action,
        "replaced_by": end.model_version_id,
        "by": who(end.actor_id, step.actor_name if step else None),
        "intent": end.intent,
        "event_id": end.event_id,
    }
