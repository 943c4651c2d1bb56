"""Releases as the registry tables record them: the list, and one release's story.

A release is a promotion: its ``model_transitions`` row (id ``rel_...``) names it. The story
read here from the tables has the shape :func:`trustplane.evidence.story.tell` rebuilds from
the ledger alone, so the two can be compared field by field.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from trustplane.audit.canonical import rfc3339
from trustplane.db.pagination import keyset_page
from trustplane.errors import NotFound
from trustplane.evidence.schemas import ReleaseRead
from trustplane.evidence.story import AFTER_ACTIONS, DATASET_KEYS, FEATURE_KEYS
from trustplane.identity.actor import Actor
from trustplane.identity.models import Environment
from trustplane.policy.models import Approval, Decision, Waiver
from trustplane.registry.facts import lineage_of
from trustplane.registry.models import (
    Model,
    ModelTransition,
    ModelVersion,
    Run,
)
from trustplane.registry.repository import (
    environment_by_name,
    resolve_model,
    tenant_of,
)
from trustplane.registry.transitions import release_id_of, transition_id_of

_ROWS = (ModelTransition, Model, ModelVersion, Environment)
R = TypeVar("R", Model, ModelVersion, Environment)


def _query(tenant: str) -> Select[ModelTransition, Model, ModelVersion, Environment]:
    return (
        select(*_ROWS)
        .join(Model, Model.id == ModelTransition.model_id)
        .join(ModelVersion, ModelVersion.id == ModelTransition.model_version_id)
        .join(Environment, Environment.id == ModelTransition.environment_id)
        .where(ModelTransition.tenant_id == tenant, ModelTransition.action == "promote")
    )


def _read(t: ModelTransition, m: Model, v: ModelVersion, e: Environment) -> ReleaseRead:
    return ReleaseRead(
        id=release_id_of(t.id),
        model=m.name,
        model_id=m.id,
        version=v.version,
        model_version_id=v.id,
        environment=e.name,
        region=e.region,
        artifact_digest=v.artifact_digest,
        actor_id=t.actor_id,
        actor_name=t.actor_name,
        intent=t.intent,
        at=t.at,
        event_id=t.event_id,
    )


def page(
    session: Session,
    actor: Actor,
    *,
    model_ref: str | None = None,
    environment: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[ReleaseRead], str | None]:
    """The tenant's releases, oldest first, optionally of one model or environment."""
    tenant = tenant_of(actor)
    query = select(ModelTransition).where(
        ModelTransition.tenant_id == tenant, ModelTransition.action == "promote"
    )
    if model_ref is not None:
        model = resolve_model(session, tenant, model_ref)
        query = query.where(ModelTransition.model_id == model.id)
    if environment is not None:
        env = environment_by_name(session, tenant, environment)
        query = query.where(ModelTransition.environment_id == env.id)
    rows, nxt = keyset_page(session, query, ModelTransition.id, cursor, limit)
    models = _by_id(session, Model, {r.model_id for r in rows})
    versions = _by_id(session, ModelVersion, {r.model_version_id for r in rows})
    envs = _by_id(session, Environment, {r.environment_id for r in rows})
    return [
        _read(r, models[r.model_id], versions[r.model_version_id], envs[str(r.environment_id)])
        for r in rows
    ], nxt


def _by_id(session: Session, kind: type[R], ids: set[Any]) -> dict[str, R]:
    """Rows of ``kind`` by id, in one query (no query per listed release)."""
    if not ids:
        return {}
    column = kind.id
    return {row.id: row for row in session.scalars(select(kind).where(column.in_(ids)))}


def get(session: Session, actor: Actor, release_id: str) -> ReleaseRead:
    return _read(*_load(session, tenant_of(actor), release_id))


def _load(
    session: Session, tenant: str, release_id: str
) -> tuple[ModelTransition, Model, ModelVersion, Environment]:
    if not release_id.startswith("rel_"):
        raise NotFound(f"no release {release_id}")
    query = _query(tenant).where(ModelTransition.id == transition_id_of(release_id))
    row = session.execute(query).one_or_none()
    if row is None:
        raise NotFound(f"no release {release_id}")
    transition, model, version, env = row
    return transition, model, version, env


def story(session: Session, actor: Actor, release_id: str) -> dict[str, Any]:
    """The release's story from the registry and policy tables."""
    transition, model, version, env = _load(session, tenant_of(actor), release_id)
    decisions = _decisions(session, transition, env)
    promoted_by = next(
        (d for d in reversed(decisions) if d.checkpoint == "promote" and d.allowed), None
    )
    promotion = (promoted_by.input.get("promotion") if promoted_by else None) or {}
    run = session.get(Run, version.run_id) if version.run_id else None
    return {
        "release": {
            "id": release_id_of(transition.id),
            "model": model.name,
            "model_id": model.id,
            "version": version.version,
            "version_id": version.id,
            "artifact_digest": version.artifact_digest,
            "environment": env.name,
            "region": env.region,
            "requester": {"id": transition.actor_id, "name": transition.actor_name},
            "at": rfc3339(transition.at),
            "intent": transition.intent,
            "category": promotion.get("category"),
            "justification": promotion.get("justification"),
            "decision_id": promoted_by.id if promoted_by else None,
            "event": transition.event_id,
        },
        "model": {
            "id": model.id,
            "name": model.name,
            "owner": model.owner,
            "risk_tier": model.risk_tier,
            "intended_use": model.intended_use,
        },
        "training": _training(session, run),
        "checks": {"metrics": dict(version.metrics), "evaluations": list(version.evaluations)},
        "decisions": [_decision(d) for d in decisions],
        "approvals": _approvals(session, transition, env),
        "waivers": _waivers(session, transition, env),
        "after": _after(session, transition),
    }


def _decisions(session: Session, transition: ModelTransition, env: Environment) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision)
            .where(
                Decision.tenant_id == transition.tenant_id,
                Decision.model_version_id == transition.model_version_id,
                or_(Decision.environment.is_(None), Decision.environment == env.name),
                Decision.at <= transition.at,
            )
            .order_by(Decision.at, Decision.id)
        )
    )


def _decision(row: Decision) -> dict[str, Any]:
    return {
        "id": row.id,
        "checkpoint": row.checkpoint,
        "environment": row.environment,
        "allowed": row.allowed,
        "bundle_digest": row.bundle_digest,
        "input_digest": row.input_digest,
        "violations": sorted(str(v.get("id")) for v in row.violations),
        "waived": sorted(str(v.get("id")) for v in row.waived),
        "actor": row.actor_id,
        "at": rfc3339(row.at),
    }


def _training(session: Session, run: Run | None) -> dict[str, Any]:
    if run is None:
        keys = ("run_id", "actor", "code_repo", "commit", "env_fingerprint", "parameters")
        return {**dict.fromkeys(keys), "datasets": [], "features": []}
    lineage = lineage_of(session, run)
    return {
        "run_id": run.id,
        "actor": run.actor_id,
        "code_repo": run.code_repo,
        "commit": run.commit_sha,
        "env_fingerprint": run.env_fingerprint,
        "parameters": dict(run.parameters),
        "datasets": [_only(d, DATASET_KEYS) for d in lineage["datasets"]],
        "features": [_only(f, FEATURE_KEYS) for f in lineage["features"]],
    }


def _only(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: item[key] for key in keys}


def _approvals(
    session: Session, transition: ModelTransition, env: Environment
) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Approval)
        .where(
            Approval.tenant_id == transition.tenant_id,
            Approval.model_version_id == transition.model_version_id,
            or_(Approval.environment_id.is_(None), Approval.environment_id == env.id),
            Approval.at <= transition.at,
        )
        .order_by(Approval.at, Approval.id)
    )
    return [
        {
            "principal_id": r.principal_id,
            "principal": r.principal_name,
            "role": r.role,
            "decision": r.decision,
            "environment": env.name if r.environment_id else None,
            "artifact_digest": r.artifact_digest,
            "at": rfc3339(r.at),
        }
        for r in rows
    ]


def _waivers(
    session: Session, transition: ModelTransition, env: Environment
) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Waiver)
        .where(
            Waiver.tenant_id == transition.tenant_id,
            Waiver.model_version_id == transition.model_version_id,
            Waiver.environment_id == env.id,
        )
        .order_by(Waiver.requested_at, Waiver.id)
    )
    return [
        {
            "id": w.id,
            "rule_ids": list(w.rule_ids),
            "environment": env.name,
            "reason": w.reason,
            "compensating_control": w.compensating_control,
            "expires_at": rfc3339(w.expires_at),
            "status": w.status,
            "requested_by": w.requested_by,
            "decided_by": w.decided_by,
        }
        for w in rows
    ]


def _after(session: Session, transition: ModelTransition) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ModelTransition, Environment.name)
        .outerjoin(Environment, Environment.id == ModelTransition.environment_id)
        .where(
            ModelTransition.tenant_id == transition.tenant_id,
            ModelTransition.model_version_id == transition.model_version_id,
            ModelTransition.at > transition.at,
            ModelTransition.action.in_(AFTER_ACTIONS),
        )
        .order_by(ModelTransition.at, ModelTransition.id)
    )
    return [
        {
            "action": t.action,
            "environment": name,
            "actor_id": t.actor_id,
            "intent": t.intent,
            "at": rfc3339(t.at),
        }
        for t, name in rows
    ]
