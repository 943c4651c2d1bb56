"""Model registry routes: models, versions, lifecycle transitions, history, time travel.

Each lifecycle action is its own route with its own permission (``POST
/model-versions/{id}/promote`` needs ``model.promote``...). Transitions need ``If-Match``
with the version's etag: 428 without it, 412 when it is stale.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Query, Response, status
from pydantic import AwareDatetime
from sqlalchemy.orm import Session

from trustplane.api.deps import Cursor, Limit, Require, RequireInSomeEnvironment, get_session
from trustplane.api.routing import domain_router
from trustplane.identity.actor import Actor
from trustplane.identity.roles import Permission
from trustplane.paging import Page
from trustplane.registry import catalog, evidence, pointers, transitions, versions
from trustplane.registry.lifecycle import NEEDS_ENVIRONMENT, PERMISSION_OF, Action
from trustplane.registry.repository import tenant_of
from trustplane.registry.schemas import (
    CompletenessReport,
    CompletenessRuleRead,
    CompletenessRuleSet,
    ModelCreate,
    ModelRead,
    ModelVersionCreate,
    ModelVersionRead,
    PointerRead,
    RiskTier,
    TagValue,
    TransitionRead,
    TransitionRequest,
)

router = domain_router(tags=["models"])
P = Permission
TagKey = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._/-]+$")]


@router.post("/models", status_code=status.HTTP_201_CREATED)
def register_model(
    body: ModelCreate,
    actor: Actor = Require(P.MODEL_REGISTER),
    session: Session = Depends(get_session),
) -> ModelRead:
    return catalog.register(session, actor, body)


@router.get("/models")
def list_models(
    actor: Actor = Require(P.MODEL_READ),
    session: Session = Depends(get_session),
    risk_tier: RiskTier | None = Query(default=None),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[ModelRead]:
    items, nxt = catalog.list_models(session, actor, risk_tier, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.get("/models/{model}")
def get_model(
    model: str, actor: Actor = Require(P.MODEL_READ), session: Session = Depends(get_session)
) -> ModelRead:
    """A model by id or name."""
    return catalog.get(session, actor, model)


@router.post("/models/{model}/versions", status_code=status.HTTP_201_CREATED)
def create_model_version(
    model: str,
    body: ModelVersionCreate,
    response: Response,
    actor: Actor = Require(P.MODEL_REGISTER),
    session: Session = Depends(get_session),
) -> ModelVersionRead:
    """A new draft version; the artifact digest is mandatory."""
    created = versions.create(session, actor, model, body)
    response.headers["ETag"] = created.etag
    return created


@router.get("/models/{model}/versions")
def list_model_versions(
    model: str,
    actor: Actor = Require(P.MODEL_READ),
    session: Session = Depends(get_session),
    state: str | None = Query(default=None, max_length=16),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[ModelVersionRead]:
    items, nxt = versions.list_versions(session, actor, model, state, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.get("/models/{model}/versions/{number}")
def get_model_version_by_number(
    model: str,
    number: int,
    response: Response,
    actor: Actor = Require(P.MODEL_READ),
    session: Session = Depends(get_session),
) -> ModelVersionRead:
    found = versions.read(session, versions.by_number(session, actor, model, number))
    response.headers["ETag"] = found.etag
    return found


@router.get("/models/{model}/history")
def model_history(
    model: str,
    actor: Actor = Require(P.MODEL_READ),
    session: Session = Depends(get_session),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[TransitionRead]:
    """Every transition of every version of the model, oldest first."""
    items, nxt = transitions.history(session, actor, model_ref=model, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=nxt)


@router.get("/models/{model}/production")
def production_pointers(
    model: str, actor: Actor = Require(P.MODEL_READ), session: Session = Depends(get_session)
) -> list[PointerRead]:
    """The version in production in each environment that has one."""
    return pointers.current(session, tenant_of(actor), model)


@router.get("/models/{model}/at")
def production_at(
    model: str,
    time: AwareDatetime = Query(description="RFC 3339 with a UTC offset."),
    environment: str = Query(min_length=1, max_length=63),
    actor: Actor = Require(P.MODEL_READ),
    session: Session = Depends(get_session),
) -> PointerRead:
    """Which version was in production in ``environment`` at ``time`` (time travel)."""
    return pointers.at(session, tenant_of(actor), model, environment, time)


@router.get("/model-versions/{version_id}")
def get_model_version(
    version_id: str,
    response: Response,
    actor: Actor = Require(P.MODEL_READ),
    session: Session = Depends(get_session),
) -> ModelVersionRead:
    found = versions.get(session, actor, version_id)
    response.headers["ETag"] = found.etag
    return found


@router.put("/model-versions/{version_id}/tags/{key}")
def set_model_version_tag(
    version_id: str,
    key: TagKey,
    body: TagValue,
    actor: Actor = Require(P.MODEL_REGISTER),
    session: Session = Depends(get_session),
) -> ModelVersionRead:
    """Set a free-form tag (annotations are not lifecycle state: no If-Match needed)."""
    return versions.set_tag(session, actor, version_id, key, body.value)


@router.get("/model-versions/{version_id}/completeness")
def model_version_completeness(
    version_id: str,
    actor: Actor = Require(P.MODEL_READ),
    session: Session = Depends(get_session),
) -> CompletenessReport:
    """The evidence this version's risk tier requires, and what is missing."""
    return versions.completeness_of(session, actor, version_id)


@router.get("/model-versions/{version_id}/history")
def model_version_history(
    version_id: str,
    actor: Actor = Require(P.MODEL_READ),
    session: Session = Depends(get_session),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[TransitionRead]:
    items, nxt = transitions.history(
        session, actor, version_id=version_id, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=nxt)


def _transition_route(action: Action) -> None:
    permission = PERMISSION_OF[action]
    # An environment-bound role (a deployer for prod only) may promote there: the service
    # checks the permission in the environment the request names.
    requirement = RequireInSomeEnvironment if action in NEEDS_ENVIRONMENT else Require

    def transition(
        version_id: str,
        body: TransitionRequest,
        response: Response,
        actor: Actor = requirement(permission),
        session: Session = Depends(get_session),
        if_match: str | None = Header(default=None, max_length=200),
    ) -> ModelVersionRead:
        moved = transitions.transition(session, actor, version_id, action, body, if_match)
        response.headers["ETag"] = moved.etag
        return moved

    router.add_api_route(
        f"/model-versions/{{version_id}}/{action.value}",
        transition,
        methods=["POST"],
        name=f"model_version_{action.value}",
        summary=f"{action.value.capitalize()} a model version (needs '{permission}', If-Match)",
    )


for _action in Action:
    _transition_route(_action)


@router.get("/completeness-rules")
def list_completeness_rules(
    actor: Actor = Require(P.MODEL_READ), session: Session = Depends(get_session)
) -> list[CompletenessRuleRead]:
    """The evidence each risk tier requires in this tenant (override or default)."""
    return evidence.list_rules(session, actor)


@router.put("/completeness-rules/{risk_tier}")
def set_completeness_rule(
    risk_tier: RiskTier,
    body: CompletenessRuleSet,
    actor: Actor = Require(P.POLICY_WRITE),
    session: Session = Depends(get_session),
) -> CompletenessRuleRead:
    return evidence.set_rule(session, actor, risk_tier, body.required)
