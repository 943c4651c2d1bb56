"""ORM models of the policy domain: bundles, activations, decisions, approvals, waivers.

Ids are prefixed ULIDs: ``pa_`` activation, ``par_`` activation request, ``dec_`` decision,
``apr_`` approval (a sign-off), ``wv_`` waiver. Bundles are named by their digest. Bundles,
activations, decisions and approvals are insert-only; a waiver and an activation request
change status as they are decided.

The policy domain stores what it is told: model versions and environments are referenced by
id, and the registry that calls it says which digests and environments they carry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trustplane.db.base import ACTOR, DIGEST, ID, Base, JSONType


class PolicyBundle(Base):
    """One stored bundle version of a tenant: its files, verbatim, and how it was vetted."""

    __tablename__ = "policy_bundles"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(DIGEST), primary_key=True)
    files: Mapped[dict[str, str]] = mapped_column(JSONType)
    description: Mapped[str] = mapped_column(Text, default="")
    tests_passed: Mapped[int] = mapped_column(Integer)
    tests_failed: Mapped[int] = mapped_column(Integer)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(ACTOR))
    event_id: Mapped[str] = mapped_column(String(ID))


class PolicyActivation(Base):
    """The tenant's active bundle from ``at`` on (the newest row wins; none: the default)."""

    __tablename__ = "policy_activations"
    __table_args__ = (Index("ix_policy_activations_tenant", "tenant_id", "id"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    digest: Mapped[str] = mapped_column(String(DIGEST))
    previous_digest: Mapped[str] = mapped_column(String(DIGEST))
    requested_by: Mapped[str] = mapped_column(String(ACTOR))
    approved_by: Mapped[str | None] = mapped_column(String(ACTOR))
    at: Mapped[datetime]
    event_id: Mapped[str] = mapped_column(String(ID))


class ActivationRequest(Base):
    """An activation waiting for a second person (when the tenant requires one)."""

    __tablename__ = "policy_activation_requests"
    __table_args__ = (Index("ix_policy_activation_requests_tenant", "tenant_id", "status"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    digest: Mapped[str] = mapped_column(String(DIGEST))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # pending | activated | rejected
    requested_by: Mapped[str] = mapped_column(String(ACTOR))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(ACTOR))
    decided_at: Mapped[datetime | None]


class Decision(Base):
    """One evaluation at a checkpoint: the input, the bundle, the answer, and why."""

    __tablename__ = "policy_decisions"
    __table_args__ = (
        Index("ix_policy_decisions_version", "tenant_id", "model_version_id", "id"),
        Index("ix_policy_decisions_tenant", "tenant_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    checkpoint: Mapped[str] = mapped_column(String(16))
    allowed: Mapped[bool] = mapped_column(Boolean)
    violations: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    waived: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    bundle_digest: Mapped[str] = mapped_column(String(DIGEST))
    input_digest: Mapped[str] = mapped_column(String(DIGEST))
    input: Mapped[dict[str, Any]] = mapped_column(JSONType)
    duration_ms: Mapped[float] = mapped_column(Float)
    model_version_id: Mapped[str | None] = mapped_column(String(ID))
    environment: Mapped[str | None] = mapped_column(String(63))
    actor_id: Mapped[str] = mapped_column(String(ACTOR))
    at: Mapped[datetime]
    event_id: Mapped[str] = mapped_column(String(ID))


class Approval(Base):
    """A sign-off (or a rejection) of one version's artifact, by a principal in a role.

    ``environment_id`` None: given through the lifecycle ``approve`` action, for every
    environment; otherwise for that environment only.
    """

    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_version", "tenant_id", "model_version_id"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    model_version_id: Mapped[str] = mapped_column(String(ID))
    environment_id: Mapped[str | None] = mapped_column(String(ID))
    artifact_digest: Mapped[str] = mapped_column(String(DIGEST))
    decision: Mapped[str] = mapped_column(String(16))  # approve | reject
    role: Mapped[str] = mapped_column(String(32))
    principal_id: Mapped[str] = mapped_column(String(ACTOR))
    principal_name: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    event_id: Mapped[str] = mapped_column(String(ID))


class Waiver(Base):
    """A time-bound, approved pass for named rules on one version in one environment."""

    __tablename__ = "waivers"
    __table_args__ = (
        Index("ix_waivers_version", "tenant_id", "model_version_id"),
        Index("ix_waivers_status", "tenant_id", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    model_version_id: Mapped[str] = mapped_column(String(ID))
    environment_id: Mapped[str] = mapped_column(String(ID))
    rule_ids: Mapped[list[str]] = mapped_column(JSONType)
    reason: Mapped[str] = mapped_column(Text)
    compensating_control: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    review_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected | expired
    requested_by: Mapped[str] = mapped_column(String(ACTOR))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(ACTOR))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(Text)
    expired_at: Mapped[datetime | None]
    review_required: Mapped[bool] = mapped_column(Boolean, default=False)
