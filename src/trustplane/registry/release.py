"""The governed release workflow: policy checkpoints, sign-offs, and what a promotion needs.

Policy is evaluated on submit, on each sign-off, on promotion and (for the deployment work to
come) at deploy time with runtime context. The registry assembles the facts
(:mod:`trustplane.registry.facts`), the policy package evaluates and records the decision.
A denial raises :class:`~trustplane.errors.PolicyDenied` carrying the violations and the
sign-offs still missing, each with the role that must give it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from trustplane.db.base import utcnow
from trustplane.errors import Conflict, Forbidden, PolicyDenied
from trustplane.identity.actor import Actor
from trustplane.identity.models import Environment
from trustplane.identity.roles import Permission
from trustplane.policy import approvals, decisions
from trustplane.policy.approvals import Signoff
from trustplane.policy.schemas import (
    ApprovalCreate,
    DecisionRead,
    PolicyEvalRequest,
    SignoffOutcome,
)
from trustplane.registry import facts, versions
from trustplane.registry.models import Model, ModelVersion, Run
from trustplane.registry.repository import environment_by_name, tenant_of

#: States in which a version may be signed off for release.
SIGNABLE = frozenset({"candidate", "approved", "production"})


@dataclass(frozen=True, slots=True)
class Promotion:
    intent: str
    category: str | None = None
    justification: str = ""

    def as_facts(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "category": self.category,
            "justification": self.justification,
        }


def label(model: Model, version: ModelVersion) -> str:
    return f"{model.name}@{version.version}"


@dataclass(frozen=True, slots=True)
class Ask:
    """One question to the policy: a checkpoint for a version, maybe in an environment."""

    checkpoint: str
    version: ModelVersion
    model: Model
    environment: Environment | None
    promotion: Promotion | None = None
    runtime: dict[str, Any] | None = None


def decide(
    session: Session, actor: Actor, ask: Ask, *, record: bool, now: datetime | None = None
) -> tuple[DecisionRead, Callable[[Session], None]]:
    """Assemble the facts and evaluate; recorded if ``record``. Also returns how to record
    the decision again after a rollback (see :class:`~trustplane.errors.PolicyDenied`)."""
    document = facts.build(
        session,
        actor,
        ask.checkpoint,
        ask.version,
        ask.model,
        ask.environment,
        promotion=ask.promotion.as_facts() if ask.promotion else None,
        now=now or utcnow(),
        runtime=ask.runtime,
    )
    return decisions.decide(
        session,
        actor,
        ask.checkpoint,
        document,
        model_version_id=ask.version.id,
        environment=ask.environment.name if ask.environment else None,
        target_label=label(ask.model, ask.version),
        persist=record,
    )


def require(
    session: Session, actor: Actor, ask: Ask, *, action: str, now: datetime | None = None
) -> DecisionRead:
    """Decide and record; on denial raise PolicyDenied (the decision survives the rollback)."""
    decision, keep = decide(session, actor, ask, record=True, now=now)
    if decision.allowed:
        return decision
    ids = ", ".join(v.id for v in decision.violations)
    raise PolicyDenied(
        f"policy denied '{ask.checkpoint}' of {label(ask.model, ask.version)}: {ids}",
        keep=keep,
        action=action,
        target_kind="model_version",
        target_id=ask.version.id,
        environment=ask.environment.name if ask.environment else None,
        decision_id=decision.id,
        bundle_digest=decision.bundle_digest,
        violations=[v.model_dump() for v in decision.violations],
        waived=[v.model_dump() for v in decision.waived],
        missing_signoffs=[s.model_dump() for s in decision.missing_signoffs],
    )


def explain(
    session: Session,
    actor: Actor,
    version: ModelVersion,
    environment: Environment,
    *,
    checkpoint: str = "promote",
    record: bool,
    now: datetime | None = None,
) -> DecisionRead:
    """What a promotion (or deployment) would get now; recorded only if ``record``."""
    model = session.get_one(Model, version.model_id)
    check = Promotion("policy check")
    ask = Ask(checkpoint, version, model, environment, promotion=check)
    return decide(session, actor, ask, record=record, now=now)[0]


def explain_request(
    session: Session, actor: Actor, request: PolicyEvalRequest, *, record: bool
) -> DecisionRead:
    """``policy eval`` (``record`` False) and the CI gate (True): a model and version number,
    and the target environment, by name."""
    version = versions.by_number(session, actor, request.model, request.version)
    env = environment_by_name(session, tenant_of(actor), request.target)
    return explain(session, actor, version, env, checkpoint=request.checkpoint, record=record)


def deployment_decision(
    session: Session,
    actor: Actor,
    version_id: str,
    environment: str,
    runtime: dict[str, Any],
    *,
    now: datetime | None = None,
) -> DecisionRead:
    """The ``deploy`` checkpoint, with runtime context (cluster, image, traffic...).

    Recorded, and raises PolicyDenied on denial; the deployment work calls this.
    """
    version = versions.load(session, actor, version_id)
    model = session.get_one(Model, version.model_id)
    env = environment_by_name(session, tenant_of(actor), environment)
    ask = Ask("deploy", version, model, env, Promotion("deployment"), runtime)
    return require(session, actor, ask, action="model.deploy", now=now)


def check_separation(session: Session, actor: Actor, version: ModelVersion, verb: str) -> None:
    """Neither the submitter nor the producing run's actor may sign the version off."""
    run = session.get(Run, version.run_id) if version.run_id else None
    reason = None
    if facts.submitted_by(session, version) == actor.principal_id:
        reason = "submitted this version"
    elif run is not None and run.actor_id == actor.principal_id:
        reason = "ran the training that produced this version"
    if reason:
        raise Forbidden(
            f"separation of duties: '{actor.name}' {reason} and cannot {verb} it",
            action=f"model.{verb}",
            target_kind="model_version",
            target_id=version.id,
        )


def record_lifecycle_approval(
    session: Session, actor: Actor, version: ModelVersion, model: Model, comment: str
) -> None:
    """The lifecycle ``approve`` action is a sign-off valid in every environment."""
    check_separation(session, actor, version, "approve")
    grants = actor.granting(Permission.MODEL_APPROVE)
    role = str(grants[0].role) if grants else "release-approver"
    approvals.add(
        session,
        actor,
        Signoff(
            tenant_id=version.tenant_id,
            model_version_id=version.id,
            label=label(model, version),
            environment_id=None,
            environment=None,
            artifact_digest=version.artifact_digest,
            decision="approve",
            role=role,
            comment=comment,
        ),
    )


def signoff(
    session: Session, actor: Actor, version_id: str, data: ApprovalCreate
) -> SignoffOutcome:
    """A sign-off (or rejection) for one environment, then the policy's view of the release."""
    version = versions.load(session, actor, version_id)
    model = session.get_one(Model, version.model_id)
    env = environment_by_name(session, tenant_of(actor), data.environment)
    verb = "approve" if data.decision == "approve" else "reject"
    permission = Permission.MODEL_APPROVE if verb == "approve" else Permission.MODEL_REJECT
    role = actor.require(
        permission,
        target_kind="model_version",
        target_id=version.id,
        environment_id=env.id,
        environment=env.name,
        action=f"model.signoff.{verb}",
    )
    check_separation(session, actor, version, verb)
    if data.artifact_digest is not None and data.artifact_digest != version.artifact_digest:
        raise Conflict(
            f"the sign-off names artifact {data.artifact_digest}, but the version's artifact is"
            f" {version.artifact_digest}; read the version again before signing",
            artifact_digest=version.artifact_digest,
        )
    if version.state not in SIGNABLE:
        raise Conflict(
            f"a version in state '{version.state}' cannot be signed off"
            f" (allowed: {', '.join(sorted(SIGNABLE))})"
        )
    given = approvals.add(
        session,
        actor,
        Signoff(
            tenant_id=version.tenant_id,
            model_version_id=version.id,
            label=label(model, version),
            environment_id=env.id,
            environment=env.name,
            artifact_digest=version.artifact_digest,
            decision=data.decision,
            role=role,
            comment=data.comment,
        ),
    )
    decision = explain(session, actor, version, env, checkpoint="approve", record=True)
    return SignoffOutcome(approval=given, decision=decision)
