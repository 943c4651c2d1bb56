"""ORM models of the registry: datasets, features, runs, models, versions, lineage edges.

Every row carries its tenant (row-level security on PostgreSQL). Ids are prefixed ULIDs:
``ds_`` dataset, ``dv_`` dataset version, ``ft_`` feature, ``fv_`` feature version, ``run_``
run, ``mdl_`` model, ``mv_`` model version. The lineage package reads these tables; the node
kind of a lineage edge end derives from its id prefix.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from trustplane.db.base import ACTOR, DIGEST, ID, Base, JSONType


class Dataset(Base):
    """A named dataset; OpenLineage datasets keep their namespace (``s3://lake``...)."""

    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("tenant_id", "namespace", "name"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    namespace: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(ACTOR))


class DatasetVersion(Base):
    """One immutable version of a dataset: where it is, what it holds, who may use it."""

    __tablename__ = "dataset_versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "version"),
        Index("ix_dataset_versions_tenant_digest", "tenant_id", "digest"),
    )

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"))
    version: Mapped[str] = mapped_column(String(200))
    uri: Mapped[str | None] = mapped_column(String(2000))
    # Null only for versions reported by OpenLineage without a content digest.
    digest: Mapped[str | None] = mapped_column(String(DIGEST))
    schema: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    sensitivity: Mapped[str] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(63))
    approval_status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected
    approved_by: Mapped[str | None] = mapped_column(String(ACTOR))
    approved_at: Mapped[datetime | None]
    approval_reason: Mapped[str | None] = mapped_column(Text)
    flagged_for_removal: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_reason: Mapped[str | None] = mapped_column(Text)
    flagged_at: Mapped[datetime | None]
    flagged_by: Mapped[str | None] = mapped_column(String(ACTOR))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(ACTOR))


class Feature(Base):
    """A named feature; its definitions live in versions."""

    __tablename__ = "features"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(ACTOR))


class FeatureVersion(Base):
    """One definition of a feature; its source dataset versions are ``source`` lineage edges."""

    __tablename__ = "feature_versions"
    __table_args__ = (UniqueConstraint("feature_id", "version"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    feature_id: Mapped[str] = mapped_column(ForeignKey("features.id"))
    version: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(Text)
    source_columns: Mapped[list[str]] = mapped_column(JSONType, default=list)
    owner: Mapped[str | None] = mapped_column(String(200))
    review_status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected
    reviewed_by: Mapped[str | None] = mapped_column(String(ACTOR))
    reviewed_at: Mapped[datetime | None]
    deprecated: Mapped[bool] = mapped_column(Boolean, default=False)
    deprecation_reason: Mapped[str | None] = mapped_column(Text)
    deprecated_at: Mapped[datetime | None]
    deprecated_by: Mapped[str | None] = mapped_column(String(ACTOR))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(ACTOR))


class Run(Base):
    """A training run (or an OpenLineage job run): code, environment, inputs, outputs."""

    __tablename__ = "runs"
    __table_args__ = (
        # NULLs are distinct on both backends: many runs may lack an external id.
        UniqueConstraint("tenant_id", "external_run_id"),
        Index("ix_runs_tenant_job", "tenant_id", "job_namespace", "job_name"),
    )

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    job_namespace: Mapped[str | None] = mapped_column(String(500))
    job_name: Mapped[str | None] = mapped_column(String(500))
    external_run_id: Mapped[str | None] = mapped_column(String(200))
    code_repo: Mapped[str | None] = mapped_column(String(1000))
    commit_sha: Mapped[str | None] = mapped_column(String(64))
    env_fingerprint: Mapped[str | None] = mapped_column(String(200))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    artifacts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16))  # running | completed | failed | aborted
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    actor_id: Mapped[str] = mapped_column(String(ACTOR))
    created_at: Mapped[datetime]


class Model(Base):
    """A model: what it is for, who owns it, how risky it is."""

    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str | None] = mapped_column(String(200))
    intended_use: Mapped[str | None] = mapped_column(Text)
    out_of_scope_uses: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Known limitations, as entered at registration (shown on the model card).
    limitations: Mapped[list[str]] = mapped_column(JSONType, default=list)
    risk_tier: Mapped[str | None] = mapped_column(String(16))  # low | medium | high | critical
    business_unit: Mapped[str | None] = mapped_column(String(200))
    regulatory_tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # The last version number handed out; incremented under the row lock of this row.
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(ACTOR))


class ModelVersion(Base):
    """A model version: an artifact digest, its producing run and evidence, and its state.

    ``row_version`` is the etag: every transition must name it (If-Match) and bumps it, so of
    two racing transitions only the first wins.
    """

    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("model_id", "version"),
        Index("ix_model_versions_tenant_digest", "tenant_id", "artifact_digest"),
    )

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"))
    version: Mapped[int] = mapped_column(Integer)
    artifact_digest: Mapped[str] = mapped_column(String(DIGEST))
    artifact_uri: Mapped[str | None] = mapped_column(String(2000))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    evaluations: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    tags: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(16))
    # The state a suspended version returns to when reinstated.
    suspended_from: Mapped[str | None] = mapped_column(String(16))
    validated_by: Mapped[str | None] = mapped_column(String(ACTOR))
    validated_at: Mapped[datetime | None]
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(ACTOR))
    updated_at: Mapped[datetime]


class ProductionPointer(Base):
    """The version of a model in production in one environment (at most one per pair).

    ``row_version`` guards the pointer the way a version's etag guards the version: promoting
    a different version to the same environment replaces the pointer only if nobody else did
    in between.
    """

    __tablename__ = "production_pointers"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"), primary_key=True)
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id"), primary_key=True)
    model_version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id"), index=True)
    since: Mapped[datetime]
    set_by: Mapped[str] = mapped_column(String(ACTOR))
    row_version: Mapped[int] = mapped_column(Integer, default=1)


class PointerHistory(Base):
    """Insert-only history of production pointers, for time travel.

    Each row says: from ``valid_from`` on, ``model_version_id`` (None: nothing) was in
    production for the model in the environment, until the next row of the same pair.
    """

    __tablename__ = "pointer_history"
    __table_args__ = (
        Index("ix_pointer_history_lookup", "tenant_id", "model_id", "environment_id", "valid_from"),
    )

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"))
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id"))
    model_version_id: Mapped[str | None] = mapped_column(ForeignKey("model_versions.id"))
    previous_version_id: Mapped[str | None] = mapped_column(String(ID))
    valid_from: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str] = mapped_column(String(ACTOR))
    intent: Mapped[str] = mapped_column(Text)
    event_id: Mapped[str] = mapped_column(String(ID))


class ModelTransition(Base):
    """Insert-only record of one lifecycle transition: who moved what, when and why."""

    __tablename__ = "model_transitions"
    __table_args__ = (
        Index("ix_model_transitions_model", "tenant_id", "model_id", "at"),
        Index("ix_model_transitions_version", "tenant_id", "model_version_id", "at"),
    )

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"))
    model_version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    environment_id: Mapped[str | None] = mapped_column(ForeignKey("environments.id"))
    actor_id: Mapped[str] = mapped_column(String(ACTOR))
    actor_name: Mapped[str] = mapped_column(String(200))
    intent: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    event_id: Mapped[str] = mapped_column(String(ID))


class CompletenessRule(Base):
    """A tenant's override of the evidence a risk tier requires (defaults live in code)."""

    __tablename__ = "completeness_rules"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    risk_tier: Mapped[str] = mapped_column(String(16), primary_key=True)
    required: Mapped[list[str]] = mapped_column(JSONType)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(ACTOR))


class LineageEdge(Base):
    """A directed link between two registry nodes; the node kind derives from the id prefix.

    Relations: ``source`` (dataset version -> feature version), ``input`` (dataset or feature
    version -> run), ``output`` (run -> dataset version), ``produced`` (run -> model version).
    """

    __tablename__ = "lineage_edges"
    __table_args__ = (Index("ix_lineage_edges_tenant_target", "tenant_id", "target_id"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    relation: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
