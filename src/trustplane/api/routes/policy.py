"""Policy routes: bundles and activation, decisions and replay, eval and the CI gate.

Pushing a bundle compiles and tests it in a sandboxed child process first: invalid Rego is
refused with the compiler's message and line, failing tests refuse it unless forced (and the
force is audited). Nothing is activated half-way: push-and-activate is one transaction.
"""

from __future__ import annotations

from fastapi import Depends, Query, status
from sqlalchemy.orm import Session

from trustplane.api.deps import Cursor, Limit, Require, get_session
from trustplane.api.routing import domain_router
from trustplane.identity.actor import Actor
from trustplane.identity.roles import Permission
from trustplane.paging import Page
from trustplane.policy import decisions, store
from trustplane.policy.schemas import (
    ActivationCreate,
    ActivationOutcome,
    ActivationRead,
    ActivationRequestRead,
    BundlePush,
    BundleRead,
    Checkpoint,
    DecisionRead,
    PolicyEvalRequest,
    ReplayRead,
)
from trustplane.registry import release

router = domain_router(tags=["policy"])
P = Permission


@router.post("/policy/bundles", status_code=status.HTTP_201_CREATED)
def push_bundle(
    body: BundlePush,
    actor: Actor = Require(P.POLICY_WRITE),
    session: Session = Depends(get_session),
) -> ActivationOutcome:
    """Store a bundle (vetted in the sandbox) and, with ``activate``, make it active."""
    bundle, report = store.push(
        session, actor, body.files, description=body.description, force=body.force
    )
    if not body.activate:
        return ActivationOutcome(test_report=report)
    outcome = store.activate(session, actor, bundle.digest, reason=body.reason)
    outcome.test_report = report
    return outcome


@router.get("/policy/bundles")
def list_bundles(
    actor: Actor = Require(P.POLICY_READ), session: Session = Depends(get_session)
) -> list[BundleRead]:
    return store.list_bundles(session, actor)


@router.get("/policy/bundles/active")
def active_bundle(
    actor: Actor = Require(P.POLICY_READ), session: Session = Depends(get_session)
) -> BundleRead:
    """The bundle governing the tenant now, with its files."""
    return store.show(session, actor, None)


@router.get("/policy/bundles/{digest}")
def show_bundle(
    digest: str, actor: Actor = Require(P.POLICY_READ), session: Session = Depends(get_session)
) -> BundleRead:
    return store.show(session, actor, digest)


@router.post("/policy/bundles/{digest}/activate")
def activate_bundle(
    digest: str,
    body: ActivationCreate,
    actor: Actor = Require(P.POLICY_WRITE),
    session: Session = Depends(get_session),
) -> ActivationOutcome:
    """Activate now, or (when the active policy asks for it) wait for a second person."""
    return store.activate(session, actor, digest, reason=body.reason)


@router.get("/policy/activations")
def list_activations(
    actor: Actor = Require(P.POLICY_READ),
    session: Session = Depends(get_session),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[ActivationRead]:
    items, nxt = store.activations(session, actor, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.get("/policy/activation-requests")
def list_activation_requests(
    actor: Actor = Require(P.POLICY_READ), session: Session = Depends(get_session)
) -> list[ActivationRequestRead]:
    return store.activation_requests(session, actor)


@router.post("/policy/activation-requests/{request_id}/approve")
def approve_activation(
    request_id: str,
    actor: Actor = Require(P.POLICY_APPROVE),
    session: Session = Depends(get_session),
) -> ActivationOutcome:
    return store.approve_activation(session, actor, request_id)


@router.post("/policy/eval")
def evaluate(
    body: PolicyEvalRequest,
    actor: Actor = Require(P.DECISION_READ),
    session: Session = Depends(get_session),
) -> DecisionRead:
    """What a promotion would get now. Nothing is recorded or changed."""
    return release.explain_request(session, actor, body, record=False)


@router.post("/policy/gate")
def gate(
    body: PolicyEvalRequest,
    actor: Actor = Require(P.DECISION_READ),
    session: Session = Depends(get_session),
) -> DecisionRead:
    """The CI gate: the same evaluation as eval, recorded as a decision (allowed or not)."""
    return release.explain_request(session, actor, body, record=True)


@router.get("/decisions")
def list_decisions(
    actor: Actor = Require(P.DECISION_READ),
    session: Session = Depends(get_session),
    model_version_id: str | None = Query(default=None, max_length=40),
    checkpoint: Checkpoint | None = Query(default=None),
    allowed: bool | None = Query(default=None),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[DecisionRead]:
    items, nxt = decisions.list_decisions(
        session,
        actor,
        model_version_id=model_version_id,
        checkpoint=checkpoint,
        allowed=allowed,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=nxt)


@router.get("/decisions/{decision_id}")
def get_decision(
    decision_id: str,
    actor: Actor = Require(P.DECISION_READ),
    session: Session = Depends(get_session),
) -> DecisionRead:
    """One decision with the input it was made over."""
    return decisions.get(session, actor, decision_id)


@router.post("/decisions/{decision_id}/replay")
def replay_decision(
    decision_id: str,
    actor: Actor = Require(P.DECISION_READ),
    session: Session = Depends(get_session),
) -> ReplayRead:
    """Evaluate the recorded input with the recorded bundle again; nothing is recorded."""
    return decisions.replay(session, actor, decision_id)
