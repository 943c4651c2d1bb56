"""Models: the registered name, owner, intended use and risk of a family of versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor, Target, record
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id, utcnow
from trustplane.db.pagination import keyset_page
from trustplane.errors import Conflict
from trustplane.registry.models import Model
from trustplane.registry.repository import model_by_name, resolve_model, tenant_of
from trustplane.registry.schemas import ModelCreate, ModelRead


def register(session: Session, actor: AuditActor, data: ModelCreate) -> ModelRead:
    tenant = tenant_of(actor)
    if model_by_name(session, tenant, data.name) is not None:
        raise Conflict(f"model '{data.name}' already exists")
    model = Model(
        id=new_id("mdl"),
        tenant_id=tenant,
        name=data.name,
        description=data.description,
        owner=data.owner,
        intended_use=data.intended_use,
        out_of_scope_uses=list(data.out_of_scope_uses),
        limitations=list(data.limitations),
        risk_tier=data.risk_tier,
        business_unit=data.business_unit,
        regulatory_tags=list(data.regulatory_tags),
        latest_version=0,
        created_at=utcnow(),
        created_by=actor.principal_id,
    )
    session.add(model)
    session.flush()
    record(
        session,
        actor,
        "model.register",
        Target("model", model.id, model.name),
        details=EventDetails(payload=_as_entered(data)),
    )
    return ModelRead.model_validate(model)


def _as_entered(data: ModelCreate) -> dict[str, Any]:
    """What the registrant stated, so the audit trail alone tells the model's purpose."""
    return {
        "description": data.description,
        "owner": data.owner,
        "intended_use": data.intended_use,
        "out_of_scope_uses": list(data.out_of_scope_uses),
        "limitations": list(data.limitations),
        "risk_tier": data.risk_tier,
        "business_unit": data.business_unit,
        "regulatory_tags": list(data.regulatory_tags),
    }


def get(session: Session, actor: AuditActor, ref: str) -> ModelRead:
    return ModelRead.model_validate(resolve_model(session, tenant_of(actor), ref))


def list_models(
    session: Session,
    actor: AuditActor,
    risk_tier: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[ModelRead], str | None]:
    query = select(Model).where(Model.tenant_id == tenant_of(actor))
    if risk_tier is not None:
        query = query.where(Model.risk_tier == risk_tier)
    rows, nxt = keyset_page(session, query, Model.id, cursor, limit)
    return [ModelRead.model_validate(r) for r in rows], nxt
