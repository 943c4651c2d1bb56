"""Model versions: creation with a mandatory artifact digest, reads, tags, completeness.

Version numbers are handed out by incrementing the model's ``latest_version`` under its row
lock, so concurrent creations of the same model get 1, 2, 3... without gaps or duplicates.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor, Target, record
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id, utcnow
from trustplane.db.pagination import keyset_page
from trustplane.errors import NotFound
from trustplane.registry import evidence
from trustplane.registry.lifecycle import State
from trustplane.registry.models import Model, ModelVersion, Run
from trustplane.registry.repository import (
    add_edges,
    get_scoped,
    pointer_envs,
    resolve_model,
    tenant_of,
)
from trustplane.registry.schemas import CompletenessReport, ModelVersionCreate, ModelVersionRead


def etag(version: ModelVersion) -> str:
    """The strong entity tag of a version's current state (changes on every transition)."""
    return f'"{version.id}.{version.row_version}"'


def to_read(version: ModelVersion, production_in: list[str]) -> ModelVersionRead:
    return ModelVersionRead(
        id=version.id,
        model_id=version.model_id,
        version=version.version,
        artifact_digest=version.artifact_digest,
        artifact_uri=version.artifact_uri,
        run_id=version.run_id,
        description=version.description,
        metrics=version.metrics,
        evaluations=version.evaluations,
        tags=version.tags,
        state=version.state,
        production_in=production_in,
        validated_by=version.validated_by,
        validated_at=version.validated_at,
        etag=etag(version),
        created_at=version.created_at,
        created_by=version.created_by,
        updated_at=version.updated_at,
    )


def read(session: Session, version: ModelVersion) -> ModelVersionRead:
    return to_read(version, pointer_envs(session, [version.id])[version.id])


def create(
    session: Session, actor: AuditActor, model_ref: str, data: ModelVersionCreate
) -> ModelVersionRead:
    """A new draft version of the model, linked to the run that produced it."""
    tenant = tenant_of(actor)
    model = resolve_model(session, tenant, model_ref)
    if data.run_id is not None:
        owner = session.scalar(select(Run.tenant_id).where(Run.id == data.run_id))
        if owner != tenant:
            raise NotFound(f"run '{data.run_id}' not found", reference=data.run_id)
    number = session.execute(
        update(Model)
        .where(Model.id == model.id)
        .values(latest_version=Model.latest_version + 1)
        .returning(Model.latest_version)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    session.expire(model, ["latest_version"])
    now = utcnow()
    version = ModelVersion(
        id=new_id("mv"),
        tenant_id=tenant,
        model_id=model.id,
        version=number,
        artifact_digest=data.artifact_digest,
        artifact_uri=data.artifact_uri,
        run_id=data.run_id,
        description=data.description,
        metrics=dict(data.metrics),
        evaluations=[e.model_dump() for e in data.evaluations],
        tags=dict(data.tags),
        state=State.DRAFT.value,
        row_version=1,
        created_at=now,
        created_by=actor.principal_id,
        updated_at=now,
    )
    session.add(version)
    session.flush()
    if data.run_id is not None:
        add_edges(session, tenant, [(data.run_id, version.id, "produced")], new_node=True)
    record(
        session,
        actor,
        "model.version",
        Target("model_version", version.id, f"{model.name}@{number}"),
        details=EventDetails(
            digests=[data.artifact_digest],
            # the recorded checks travel with the event: reconstruction reads no database
            payload={
                "model_id": model.id,
                "run_id": data.run_id,
                "version": number,
                "artifact_uri": version.artifact_uri,
                "metrics": version.metrics,
                "evaluations": version.evaluations,
            },
        ),
    )
    return to_read(version, [])


def load(session: Session, actor: AuditActor, version_id: str) -> ModelVersion:
    return get_scoped(session, ModelVersion, tenant_of(actor), version_id, "model version")


def get(session: Session, actor: AuditActor, version_id: str) -> ModelVersionRead:
    return read(session, load(session, actor, version_id))


def by_number(session: Session, actor: AuditActor, model_ref: str, number: int) -> ModelVersion:
    model = resolve_model(session, tenant_of(actor), model_ref)
    version = session.scalar(
        select(ModelVersion).where(
            ModelVersion.model_id == model.id, ModelVersion.version == number
        )
    )
    if version is None:
        raise NotFound(f"model '{model.name}' has no version {number}")
    return version


def list_versions(
    session: Session,
    actor: AuditActor,
    model_ref: str,
    state: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[ModelVersionRead], str | None]:
    model = resolve_model(session, tenant_of(actor), model_ref)
    query = select(ModelVersion).where(
        ModelVersion.tenant_id == model.tenant_id, ModelVersion.model_id == model.id
    )
    if state is not None:
        query = query.where(ModelVersion.state == state)
    rows, nxt = keyset_page(session, query, ModelVersion.id, cursor, limit)
    envs = pointer_envs(session, [r.id for r in rows])
    return [to_read(r, envs[r.id]) for r in rows], nxt


def set_tag(
    session: Session, actor: AuditActor, version_id: str, key: str, value: str
) -> ModelVersionRead:
    """Set one free-form tag. Tags are annotations, not state: the etag does not change."""
    version = get_scoped(
        session, ModelVersion, tenant_of(actor), version_id, "model version", lock=True
    )
    version.tags = {**version.tags, key: value}
    version.updated_at = utcnow()
    record(
        session,
        actor,
        "model.tag",
        Target("model_version", version.id),
        details=EventDetails(payload={"key": key, "value": value}),
    )
    return read(session, version)


def completeness_of(session: Session, actor: AuditActor, version_id: str) -> CompletenessReport:
    version = load(session, actor, version_id)
    model = session.get_one(Model, version.model_id)
    return evidence.as_read(evidence.report(session, version, model))
