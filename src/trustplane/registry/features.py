"""Features and feature versions: definition, source dataset versions, review, deprecation.

A feature version's source dataset versions are ``source`` lineage edges (dataset version ->
feature version), recorded in the same transaction as the version.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor, Target, record
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id, utcnow
from trustplane.db.pagination import keyset_page
from trustplane.errors import Conflict, NotFound
from trustplane.registry.models import Feature, FeatureVersion
from trustplane.registry.repository import (
    add_edges,
    feature_by_name,
    get_scoped,
    require_nodes,
    sources_of,
    tenant_of,
)
from trustplane.registry.schemas import (
    FeatureCreate,
    FeatureRead,
    FeatureVersionCreate,
    FeatureVersionRead,
    FlagRequest,
    ReviewDecision,
)


def define(session: Session, actor: AuditActor, data: FeatureCreate) -> FeatureRead:
    tenant = tenant_of(actor)
    if feature_by_name(session, tenant, data.name) is not None:
        raise Conflict(f"feature '{data.name}' already exists")
    feature = Feature(
        id=new_id("ft"),
        tenant_id=tenant,
        name=data.name,
        description=data.description,
        owner=data.owner,
        created_at=utcnow(),
        created_by=actor.principal_id,
    )
    session.add(feature)
    session.flush()
    record(session, actor, "feature.define", Target("feature", feature.id, feature.name))
    return FeatureRead.model_validate(feature)


def resolve(session: Session, actor: AuditActor, ref: str) -> Feature:
    """A feature by id (``ft_...``) or by name."""
    tenant = tenant_of(actor)
    if ref.startswith("ft_"):
        found = session.get(Feature, ref)
        if found is not None and found.tenant_id == tenant:
            return found
    feature = feature_by_name(session, tenant, ref)
    if feature is None:
        raise NotFound(f"feature '{ref}' not found")
    return feature


def get(session: Session, actor: AuditActor, ref: str) -> FeatureRead:
    return FeatureRead.model_validate(resolve(session, actor, ref))


def list_features(
    session: Session, actor: AuditActor, cursor: str | None, limit: int
) -> tuple[list[FeatureRead], str | None]:
    query = select(Feature).where(Feature.tenant_id == tenant_of(actor))
    rows, nxt = keyset_page(session, query, Feature.id, cursor, limit)
    return [FeatureRead.model_validate(r) for r in rows], nxt


def create_version(
    session: Session, actor: AuditActor, ref: str, data: FeatureVersionCreate
) -> FeatureVersionRead:
    """A new definition of the feature, linked to the dataset versions it is computed from."""
    feature = resolve(session, actor, ref)
    tenant = feature.tenant_id
    exists = session.scalar(
        select(FeatureVersion.id).where(
            FeatureVersion.feature_id == feature.id, FeatureVersion.version == data.version
        )
    )
    if exists is not None:
        raise Conflict(f"feature '{feature.name}' already has a version '{data.version}'")
    sources = list(dict.fromkeys(data.source_dataset_versions))
    require_nodes(session, tenant, sources, ["dataset_version"], "source dataset version")
    version = FeatureVersion(
        id=new_id("fv"),
        tenant_id=tenant,
        feature_id=feature.id,
        version=data.version,
        definition=data.definition,
        source_columns=list(data.source_columns),
        owner=data.owner or feature.owner,
        review_status="pending",
        deprecated=False,
        created_at=utcnow(),
        created_by=actor.principal_id,
    )
    session.add(version)
    session.flush()
    add_edges(session, tenant, [(s, version.id, "source") for s in sources], new_node=True)
    record(
        session,
        actor,
        "feature.version",
        Target("feature_version", version.id, f"{feature.name}@{data.version}"),
        details=EventDetails(payload={"feature_id": feature.id, "sources": sources}),
    )
    return _read(version, sources)


def _read(version: FeatureVersion, sources: list[str]) -> FeatureVersionRead:
    read = FeatureVersionRead.model_validate(version)
    read.source_dataset_versions = sources
    return read


def get_version(session: Session, actor: AuditActor, version_id: str) -> FeatureVersionRead:
    version = _version(session, actor, version_id)
    return _read(version, sources_of(session, version.tenant_id, [version.id])[version.id])


def _version(
    session: Session, actor: AuditActor, version_id: str, *, lock: bool = False
) -> FeatureVersion:
    return get_scoped(
        session, FeatureVersion, tenant_of(actor), version_id, "feature version", lock=lock
    )


def list_versions(
    session: Session, actor: AuditActor, ref: str, cursor: str | None, limit: int
) -> tuple[list[FeatureVersionRead], str | None]:
    feature = resolve(session, actor, ref)
    query = select(FeatureVersion).where(
        FeatureVersion.tenant_id == feature.tenant_id, FeatureVersion.feature_id == feature.id
    )
    rows, nxt = keyset_page(session, query, FeatureVersion.id, cursor, limit)
    sources = sources_of(session, feature.tenant_id, [r.id for r in rows])
    return [_read(r, sources[r.id]) for r in rows], nxt


def review(
    session: Session, actor: AuditActor, version_id: str, data: ReviewDecision
) -> FeatureVersionRead:
    version = _version(session, actor, version_id, lock=True)
    if version.review_status != "pending":
        raise Conflict(f"feature version '{version.id}' is already {version.review_status}")
    version.review_status = data.decision
    version.reviewed_by = actor.principal_id
    version.reviewed_at = utcnow()
    record(
        session,
        actor,
        "feature.approve" if data.decision == "approved" else "feature.reject",
        Target("feature_version", version.id, version.version),
        details=EventDetails(reason=data.reason),
    )
    return get_version(session, actor, version.id)


def deprecate_version(
    session: Session, actor: AuditActor, version_id: str, data: FlagRequest
) -> FeatureVersionRead:
    version = _version(session, actor, version_id, lock=True)
    if version.deprecated:
        raise Conflict(f"feature version '{version.id}' is already deprecated")
    _deprecate(session, actor, version, data.reason)
    return get_version(session, actor, version.id)


def deprecate_feature(
    session: Session, actor: AuditActor, ref: str, data: FlagRequest
) -> list[FeatureVersionRead]:
    """Deprecate every version of the feature not deprecated yet (one event per version)."""
    feature = resolve(session, actor, ref)
    versions = session.scalars(
        select(FeatureVersion)
        .where(
            FeatureVersion.tenant_id == feature.tenant_id,
            FeatureVersion.feature_id == feature.id,
            FeatureVersion.deprecated.is_(False),
        )
        .order_by(FeatureVersion.id)
        .with_for_update()
    ).all()
    if not versions:
        raise Conflict(f"feature '{feature.name}' has no version left to deprecate")
    for version in versions:
        _deprecate(session, actor, version, data.reason)
    sources = sources_of(session, feature.tenant_id, [v.id for v in versions])
    return [_read(v, sources[v.id]) for v in versions]


def _deprecate(session: Session, actor: AuditActor, version: FeatureVersion, reason: str) -> None:
    version.deprecated = True
    version.deprecation_reason = reason
    version.deprecated_at = utcnow()
    version.deprecated_by = actor.principal_id
    record(
        session,
        actor,
        "feature.deprecate",
        Target("feature_version", version.id, version.version),
        details=EventDetails(reason=reason),
    )
