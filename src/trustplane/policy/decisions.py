"""Decisions: evaluate a fact document at a checkpoint, record why, replay it later.

The caller (the registry's release workflow) assembles the facts; this module never reads
registry tables. A recorded decision is a row and an audit event holding the whole decision,
input included, so the ledger alone tells what was decided over which facts and bundle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor, Target, record
from trustplane.audit.canonical import canonical_json
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id, utcnow
from trustplane.db.pagination import keyset_page
from trustplane.errors import Conflict, InvalidInput, NotFound
from trustplane.policy import store
from trustplane.policy.bundle import Bundle
from trustplane.policy.engine import Engine, Outcome
from trustplane.policy.models import Decision
from trustplane.policy.schemas import DecisionRead, ReplayRead, SignoffNeed, ViolationRead

ENGINE = Engine()
"""The process's engine: compiled bundles are cached here, shared by every request."""

SIGNOFF_RULE = "TP-SIGNOFF-MISSING"


def configure(timeout_seconds: float) -> None:
    ENGINE.timeout_seconds = timeout_seconds


def input_digest(facts: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(facts)).hexdigest()


def evaluate(
    session: Session, tenant_id: str, facts: dict[str, Any], bundle: Bundle | None = None
) -> tuple[Bundle, Outcome]:
    """The active bundle's answer over ``facts``; fails closed inside the engine."""
    chosen = bundle or store.active(session, tenant_id)
    return chosen, ENGINE.evaluate(chosen, facts)


def decide(
    session: Session,
    actor: AuditActor,
    checkpoint: str,
    facts: dict[str, Any],
    *,
    model_version_id: str | None,
    environment: str | None,
    target_label: str | None = None,
    persist: bool = True,
) -> tuple[DecisionRead, Callable[[Session], None]]:
    """Evaluate and (if ``persist``) record; also return how to record it again.

    The second value re-records the same decision in another transaction: a denial is
    committed as evidence after the edge rolls back the refused request's work.
    """
    tenant = _tenant(actor)
    bundle, outcome = evaluate(session, tenant, facts)
    now = utcnow()
    row = Decision(
        id=new_id("dec"),
        tenant_id=tenant,
        checkpoint=checkpoint,
        allowed=outcome.allowed,
        violations=[v.as_dict() for v in outcome.violations],
        waived=[v.as_dict() for v in outcome.waived],
        bundle_digest=bundle.digest,
        input_digest=input_digest(facts),
        input=facts,
        duration_ms=round(outcome.duration_ms, 3),
        model_version_id=model_version_id,
        environment=environment,
        actor_id=actor.principal_id,
        at=now,
        event_id="",
    )

    def keep(into: Session) -> None:
        _store(into, actor, row, bundle, target_label)

    if persist:
        keep(session)
        return read(row), keep
    return read(row, with_id=False), keep


def _store(
    session: Session, actor: AuditActor, row: Decision, bundle: Bundle, label: str | None
) -> None:
    if bundle.digest == store.shipped().digest:
        store.ensure_stored(session, row.tenant_id, bundle)
    target = (
        Target("model_version", row.model_version_id, label)
        if row.model_version_id
        else Target("policy_decision", row.id)
    )
    event = record(
        session,
        actor,
        f"policy.decision.{row.checkpoint}",
        target,
        outcome="allowed" if row.allowed else "denied",
        details=EventDetails(
            environment=row.environment,
            digests=[row.bundle_digest, row.input_digest],
            reason=None if row.allowed else _summary(row.violations),
            payload={
                "decision_id": row.id,
                "checkpoint": row.checkpoint,
                "allowed": row.allowed,
                "bundle_digest": row.bundle_digest,
                "input_digest": row.input_digest,
                "violations": row.violations,
                "waived": row.waived,
                "duration_ms": row.duration_ms,
                "input": row.input,
            },
        ),
    )
    stored = Decision(**{c: getattr(row, c) for c in _COLUMNS}, event_id=event.id)
    session.add(stored)
    session.flush()
    row.event_id = event.id


_COLUMNS = [c.key for c in Decision.__table__.columns if c.key != "event_id"]


def _summary(violations: list[dict[str, Any]]) -> str:
    ids = ", ".join(str(v.get("id")) for v in violations[:10])
    return f"policy denied: {ids}" if ids else "policy denied"


def missing_signoffs(violations: list[dict[str, Any]]) -> list[SignoffNeed]:
    """The sign-offs a denial waits for, each with the role that must give it."""
    return [
        SignoffNeed(role=v.get("owner_role", ""), rule_id=v["id"], message=v.get("message", ""))
        for v in violations
        if v.get("id") == SIGNOFF_RULE
    ]


def read(row: Decision, *, with_id: bool = True, with_input: bool = False) -> DecisionRead:
    return DecisionRead(
        id=row.id if with_id else None,
        checkpoint=row.checkpoint,
        allowed=row.allowed,
        violations=[ViolationRead.model_validate(v) for v in row.violations],
        waived=[ViolationRead.model_validate(v) for v in row.waived],
        missing_signoffs=missing_signoffs(row.violations),
        bundle_digest=row.bundle_digest,
        input_digest=row.input_digest,
        duration_ms=row.duration_ms,
        model_version_id=row.model_version_id,
        environment=row.environment,
        actor_id=row.actor_id,
        at=row.at,
        event_id=row.event_id or None,
        input=row.input if with_input else None,
    )


def get(session: Session, actor: AuditActor, decision_id: str) -> DecisionRead:
    return read(_load(session, actor, decision_id), with_input=True)


def _load(session: Session, actor: AuditActor, decision_id: str) -> Decision:
    row = session.get(Decision, decision_id)
    if row is None or row.tenant_id != _tenant(actor):
        raise NotFound(f"decision {decision_id} not found")
    return row


def list_decisions(
    session: Session,
    actor: AuditActor,
    *,
    model_version_id: str | None = None,
    checkpoint: str | None = None,
    allowed: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[DecisionRead], str | None]:
    query = select(Decision).where(Decision.tenant_id == _tenant(actor))
    if model_version_id is not None:
        query = query.where(Decision.model_version_id == model_version_id)
    if checkpoint is not None:
        query = query.where(Decision.checkpoint == checkpoint)
    if allowed is not None:
        query = query.where(Decision.allowed == allowed)
    rows, nxt = keyset_page(session, query, Decision.id, cursor, limit)
    return [read(r) for r in rows], nxt


def replay(session: Session, actor: AuditActor, decision_id: str) -> ReplayRead:
    """Evaluate the recorded input with the recorded bundle; say whether the answer holds."""
    row = _load(session, actor, decision_id)
    try:
        bundle = store.by_digest(session, row.tenant_id, row.bundle_digest)
    except NotFound as exc:
        raise Conflict(
            f"decision {decision_id} used bundle {row.bundle_digest}, which is no longer stored;"
            " it cannot be replayed"
        ) from exc
    if input_digest(row.input) != row.input_digest:
        raise Conflict(f"decision {decision_id}: the stored input no longer matches its digest")
    outcome = ENGINE.evaluate(bundle, row.input)
    again = Decision(
        id=row.id,
        tenant_id=row.tenant_id,
        checkpoint=row.checkpoint,
        allowed=outcome.allowed,
        violations=[v.as_dict() for v in outcome.violations],
        waived=[v.as_dict() for v in outcome.waived],
        bundle_digest=bundle.digest,
        input_digest=row.input_digest,
        input=row.input,
        duration_ms=round(outcome.duration_ms, 3),
        model_version_id=row.model_version_id,
        environment=row.environment,
        actor_id=actor.principal_id,
        at=utcnow(),
        event_id="",
    )
    differences = _differences(row, again)
    return ReplayRead(
        decision_id=row.id,
        same=not differences,
        original=read(row),
        replayed=read(again, with_id=False),
        differences=differences,
    )


def _differences(first: Decision, second: Decision) -> list[str]:
    found: list[str] = []
    if first.allowed != second.allowed:
        found.append(f"allowed: {first.allowed} then {second.allowed}")
    for name in ("violations", "waived"):
        before = _keys(getattr(first, name))
        after = _keys(getattr(second, name))
        if before != after:
            found.append(f"{name}: {sorted(before)} then {sorted(after)}")
    return found


def _keys(items: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(str(v.get("id")), str(v.get("message")), str(v.get("waiver_id"))) for v in items}


def _tenant(actor: AuditActor) -> str:
    if actor.tenant_id is None:
        raise InvalidInput("this action needs a tenant")
    return actor.tenant_id
