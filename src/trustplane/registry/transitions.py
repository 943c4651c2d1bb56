"""Lifecycle transitions: a named action on a version, guarded by its etag and the gate.

Order of checks: If-Match present (428), the version exists (404), the etag is current (412),
the action may start from the state (409 listing the allowed ones), the gate allows it (403
for a missing permission, 409 listing missing evidence). Then, in the same transaction: the
audit event, pointer changes, the new state and etag, and the transition record.

Every transition of a model takes the model's row lock first, so transitions of one model
(and the production pointers they move) are serialised without deadlocks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trustplane.audit import Target, record
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id, utcnow
from trustplane.db.pagination import keyset_page
from trustplane.errors import (
    Forbidden,
    IncompleteEvidence,
    InvalidInput,
    InvalidTransition,
    PreconditionFailed,
    PreconditionRequired,
)
from trustplane.identity.actor import Actor
from trustplane.identity.models import Environment
from trustplane.policy.schemas import DecisionRead
from trustplane.registry import evidence, pointers, release, versions
from trustplane.registry.gate import DEFAULT_GATE, TransitionFacts, TransitionGate, Verdict
from trustplane.registry.lifecycle import (
    ENDS_POINTERS,
    NEEDS_ENVIRONMENT,
    PERMISSION_OF,
    Action,
    IllegalTransition,
    Position,
    State,
    after_pointer_loss,
    next_state,
)
from trustplane.registry.models import Model, ModelTransition, ModelVersion
from trustplane.registry.repository import (
    count_pointers,
    environment_by_name,
    environment_names,
    resolve_model,
    tenant_of,
)
from trustplane.registry.schemas import ModelVersionRead, TransitionRead, TransitionRequest


def transition(
    session: Session,
    actor: Actor,
    version_id: str,
    action: Action,
    data: TransitionRequest,
    if_match: str | None,
    *,
    gate: TransitionGate = DEFAULT_GATE,
) -> ModelVersionRead:
    """Apply ``action`` to the version whose etag is ``if_match``."""
    expected = _expected(if_match)
    tenant = tenant_of(actor)
    version = versions.load(session, actor, version_id)
    model = session.get_one(Model, version.model_id, with_for_update=True)
    session.refresh(version, with_for_update=True)
    current = versions.etag(version)
    if current != expected:
        raise PreconditionFailed(
            f"the version changed since etag {expected} was read (current: {current})",
            etag=current,
        )
    env = _environment(session, tenant, action, data.environment)
    if data.replaces is not None and action is not Action.PROMOTE:
        raise InvalidInput(f"'{action}' does not take 'replaces'")
    position = Position(
        State(version.state),
        validated=version.validated_at is not None,
        suspended_from=State(version.suspended_from) if version.suspended_from else None,
    )
    try:
        target = next_state(action, position)
    except IllegalTransition as exc:
        raise InvalidTransition(
            exc.reason,
            action=f"model.{action}",
            target_kind="model_version",
            target_id=version.id,
            state=version.state,
            allowed=exc.allowed,
        ) from exc
    facts = TransitionFacts(
        actor=actor,
        action=action,
        model_id=model.id,
        model_version_id=version.id,
        artifact_digest=version.artifact_digest,
        risk_tier=model.risk_tier,
        from_state=position.state,
        to_state=target,
        environment_id=env.id if env else None,
        environment=env.name if env else None,
        intent=data.intent,
        replaces=data.replaces,
        # only leaving draft needs it: the other transitions skip its four queries
        completeness=(
            evidence.report(session, version, model) if position.state is State.DRAFT else None
        ),
    )
    _enforce(gate.may(facts), facts)
    decision = _govern(session, actor, model, version, env, action, data)
    _apply(session, actor, model, version, facts, _release_facts(data, env, decision))
    if action is Action.APPROVE:
        release.record_lifecycle_approval(session, actor, version, model, data.intent)
    return versions.read(session, version)


def _govern(
    session: Session,
    actor: Actor,
    model: Model,
    version: ModelVersion,
    env: Environment | None,
    action: Action,
    data: TransitionRequest,
) -> DecisionRead | None:
    """The policy checkpoints of the lifecycle: submit and promote; approve checks duties."""
    if action is Action.SUBMIT:
        ask = release.Ask("submit", version, model, None)
        return release.require(session, actor, ask, action="model.submit")
    if action is Action.APPROVE:
        release.check_separation(session, actor, version, "approve")
    elif action is Action.PROMOTE:
        promotion = release.Promotion(data.intent, data.category, data.justification)
        ask = release.Ask("promote", version, model, env, promotion)
        return release.require(session, actor, ask, action="model.promote")
    return None


def _release_facts(
    data: TransitionRequest, env: Environment | None, decision: DecisionRead | None
) -> dict[str, Any]:
    """What a promotion's event adds, so the ledger alone tells the release (docs/evidence.md).

    A promotion is a release, named ``rel_<ulid>`` after its transition ``tr_<ulid>``.
    """
    if env is None:
        return {"decision_id": decision.id} if decision is not None else {}
    return {
        "release_id": release_id_of(new_id("tr")),
        "decision_id": decision.id if decision is not None else None,
        "region": env.region,
        "category": data.category,
        "justification": data.justification,
        "replaces": data.replaces,
    }


def release_id_of(transition_id: str) -> str:
    """A promotion's release id: its transition id under the ``rel_`` prefix."""
    return "rel_" + transition_id.removeprefix("tr_")


def transition_id_of(release_id: str) -> str:
    return "tr_" + release_id.removeprefix("rel_")


def _expected(if_match: str | None) -> str:
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "lifecycle transitions need an If-Match header with the version's etag"
        )
    value = if_match.strip()
    if value == "*" or "," in value:
        raise PreconditionRequired("If-Match must name exactly one etag of the version")
    return value if value.startswith('"') else f'"{value}"'


def _environment(
    session: Session, tenant: str, action: Action, name: str | None
) -> Environment | None:
    if action in NEEDS_ENVIRONMENT:
        if name is None:
            raise InvalidInput(f"'{action}' needs an environment")
        return environment_by_name(session, tenant, name)
    if name is not None:
        raise InvalidInput(f"'{action}' does not take an environment")
    return None


def _enforce(verdict: Verdict, facts: TransitionFacts) -> None:
    if verdict.allowed:
        return
    if verdict.refusal == "forbidden":
        raise Forbidden(
            verdict.detail,
            action=PERMISSION_OF[facts.action].value,
            target_kind="model_version",
            target_id=facts.model_version_id,
            permission=PERMISSION_OF[facts.action].value,
            environment=facts.environment,
        )
    refused: dict[str, Any] = {
        "action": f"model.{facts.action}",
        "target_kind": "model_version",
        "target_id": facts.model_version_id,
    }
    if verdict.refusal == "incomplete":
        raise IncompleteEvidence(
            verdict.detail, missing=verdict.missing, risk_tier=facts.risk_tier, **refused
        )
    raise InvalidTransition(
        verdict.detail or "the transition was refused", refusal=verdict.refusal, **refused
    )


def _apply(
    session: Session,
    actor: Actor,
    model: Model,
    version: ModelVersion,
    facts: TransitionFacts,
    extra: dict[str, Any],
) -> None:
    now = utcnow()
    event = record(
        session,
        actor,
        f"model.{facts.action}",
        Target("model_version", version.id, f"{model.name}@{version.version}"),
        details=EventDetails(
            environment=facts.environment,
            digests=[version.artifact_digest],
            intent=facts.intent,
            payload={
                "model_id": model.id,
                "from": facts.from_state,
                "to": facts.to_state,
                "version": version.version,
                **extra,
            },
        ),
    )
    change = pointers.Change(facts.action.value, actor.principal_id, facts.intent, event.id, now)
    values: dict[str, object] = {"state": facts.to_state.value, "updated_at": now}
    if facts.action is Action.PROMOTE and facts.environment_id is not None:
        env = session.get_one(Environment, facts.environment_id)
        previous = pointers.point(session, version, env, change, facts.replaces)
        if previous is not None:
            _replaced(session, actor, model, previous, version, env, change)
    if facts.action in ENDS_POINTERS:
        pointers.clear_all(session, version, change)
    if facts.action is Action.VALIDATE:
        values |= {"validated_by": actor.principal_id, "validated_at": now}
    if facts.action is Action.SUSPEND:
        values["suspended_from"] = facts.from_state.value
    if facts.action is Action.REINSTATE:
        values["suspended_from"] = None
    _bump(session, version, values)
    release = extra.get("release_id")
    _log(session, actor, version, facts.action.value, facts, change, release)


def _bump(session: Session, version: ModelVersion, values: dict[str, object]) -> None:
    """Write the new state and etag, only over the row version that was checked."""
    done = session.execute(
        update(ModelVersion)
        .where(ModelVersion.id == version.id, ModelVersion.row_version == version.row_version)
        .values(row_version=version.row_version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise PreconditionFailed("the version changed concurrently; read it again")
    session.expire(version)


def _replaced(
    session: Session,
    actor: Actor,
    model: Model,
    previous_id: str,
    by: ModelVersion,
    env: Environment,
    change: pointers.Change,
) -> None:
    """The version that lost the pointer: recorded, and back to approved if it holds none."""
    previous = session.get_one(ModelVersion, previous_id, with_for_update=True)
    before = State(previous.state)
    after = after_pointer_loss(before, count_pointers(session, previous.id))
    intent = f"replaced in '{env.name}' by version {by.version}: {change.intent}"
    event = record(
        session,
        actor,
        "model.replaced",
        Target("model_version", previous.id, f"{model.name}@{previous.version}"),
        details=EventDetails(
            environment=env.name,
            digests=[previous.artifact_digest],
            intent=intent,
            payload={"model_id": model.id, "from": before, "to": after, "by": by.id},
        ),
    )
    _bump(session, previous, {"state": after.value, "updated_at": change.at})
    session.add(
        ModelTransition(
            id=new_id("tr"),
            tenant_id=model.tenant_id,
            model_id=model.id,
            model_version_id=previous.id,
            action="replaced",
            from_state=before.value,
            to_state=after.value,
            environment_id=env.id,
            actor_id=actor.principal_id,
            actor_name=actor.name,
            intent=intent,
            at=change.at,
            event_id=event.id,
        )
    )


def _log(
    session: Session,
    actor: Actor,
    version: ModelVersion,
    action: str,
    facts: TransitionFacts,
    change: pointers.Change,
    release_id: str | None = None,
) -> None:
    session.add(
        ModelTransition(
            id=transition_id_of(release_id) if release_id else new_id("tr"),
            tenant_id=version.tenant_id,
            model_id=version.model_id,
            model_version_id=version.id,
            action=action,
            from_state=facts.from_state.value,
            to_state=facts.to_state.value,
            environment_id=facts.environment_id,
            actor_id=actor.principal_id,
            actor_name=actor.name,
            intent=facts.intent,
            at=change.at,
            event_id=change.event_id,
        )
    )
    session.flush()


def history(
    session: Session,
    actor: Actor,
    *,
    model_ref: str | None = None,
    version_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[TransitionRead], str | None]:
    """Who moved what, when and why: a model's or a version's transitions, oldest first."""
    tenant = tenant_of(actor)
    query = select(ModelTransition).where(ModelTransition.tenant_id == tenant)
    if version_id is not None:
        versions.load(session, actor, version_id)
        query = query.where(ModelTransition.model_version_id == version_id)
    if model_ref is not None:
        model = resolve_model(session, tenant, model_ref)
        query = query.where(ModelTransition.model_id == model.id)
    rows, nxt = keyset_page(session, query, ModelTransition.id, cursor, limit)
    names = environment_names(session, (r.environment_id for r in rows))
    items = []
    for row in rows:
        item = TransitionRead.model_validate(row)
        item.environment = names.get(row.environment_id) if row.environment_id else None
        items.append(item)
    return items, nxt
