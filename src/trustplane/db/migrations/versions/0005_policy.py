"""Policy: bundles and activations, decisions, approvals (sign-offs), waivers

Revision ID: 0005_policy
Revises: 0004_lineage
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from trustplane.db.ddl import disable_rls, enable_rls, install_insert_only, remove_insert_only

revision = "0005_policy"
down_revision = "0004_lineage"
branch_labels = None
depends_on = None

#: Tenant tables of this migration, with the column that names the tenant.
POLICY_TABLES: dict[str, str] = {
    table: "tenant_id"
    for table in (
        "policy_bundles",
        "policy_activations",
        "policy_activation_requests",
        "policy_decisions",
        "approvals",
        "waivers",
    )
}

#: Insert-only: what was decided, signed off or activated is never rewritten.
INSERT_ONLY = ("policy_bundles", "policy_activations", "policy_decisions", "approvals")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants")
    )


def _at(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "policy_bundles",
        _str("tenant_id", 40),
        _str("digest", 71),
        sa.Column("files", _json(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tests_passed", sa.Integer(), nullable=False),
        sa.Column("tests_failed", sa.Integer(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        _at("created_at"),
        _str("created_by", 64),
        _str("event_id", 40),
        _tenant_fk("policy_bundles"),
        sa.PrimaryKeyConstraint("tenant_id", "digest", name=op.f("pk_policy_bundles")),
    )
    op.create_table(
        "policy_activations",
        _str("id", 40),
        _str("tenant_id", 40),
        _str("digest", 71),
        _str("previous_digest", 71),
        _str("requested_by", 64),
        _str("approved_by", 64, nullable=True),
        _at("at"),
        _str("event_id", 40),
        _tenant_fk("policy_activations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_activations")),
    )
    op.create_index("ix_policy_activations_tenant", "policy_activations", ["tenant_id", "id"])
    op.create_table(
        "policy_activation_requests",
        _str("id", 40),
        _str("tenant_id", 40),
        _str("digest", 71),
        sa.Column("reason", sa.Text(), nullable=False),
        _str("status", 16),
        _str("requested_by", 64),
        _at("requested_at"),
        _str("decided_by", 64, nullable=True),
        _at("decided_at", nullable=True),
        _tenant_fk("policy_activation_requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_activation_requests")),
    )
    op.create_index(
        "ix_policy_activation_requests_tenant",
        "policy_activation_requests",
        ["tenant_id", "status"],
    )
    op.create_table(
        "policy_decisions",
        _str("id", 40),
        _str("tenant_id", 40),
        _str("checkpoint", 16),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("violations", _json(), nullable=False),
        sa.Column("waived", _json(), nullable=False),
        _str("bundle_digest", 71),
        _str("input_digest", 71),
        sa.Column("input", _json(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        _str("model_version_id", 40, nullable=True),
        _str("environment", 63, nullable=True),
        _str("actor_id", 64),
        _at("at"),
        _str("event_id", 40),
        _tenant_fk("policy_decisions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_decisions")),
    )
    op.create_index(
        "ix_policy_decisions_version",
        "policy_decisions",
        ["tenant_id", "model_version_id", "id"],
    )
    op.create_index("ix_policy_decisions_tenant", "policy_decisions", ["tenant_id", "id"])
    op.create_table(
        "approvals",
        _str("id", 40),
        _str("tenant_id", 40),
        _str("model_version_id", 40),
        _str("environment_id", 40, nullable=True),
        _str("artifact_digest", 71),
        _str("decision", 16),
        _str("role", 32),
        _str("principal_id", 64),
        _str("principal_name", 200),
        sa.Column("comment", sa.Text(), nullable=False),
        _at("at"),
        _str("event_id", 40),
        _tenant_fk("approvals"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_index("ix_approvals_version", "approvals", ["tenant_id", "model_version_id"])
    op.create_table(
        "waivers",
        _str("id", 40),
        _str("tenant_id", 40),
        _str("model_version_id", 40),
        _str("environment_id", 40),
        sa.Column("rule_ids", _json(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("compensating_control", sa.Text(), nullable=False),
        _at("expires_at"),
        _at("review_at"),
        _str("status", 16),
        _str("requested_by", 64),
        _at("requested_at"),
        _str("decided_by", 64, nullable=True),
        _at("decided_at", nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        _at("expired_at", nullable=True),
        sa.Column("review_required", sa.Boolean(), nullable=False),
        _tenant_fk("waivers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waivers")),
    )
    op.create_index("ix_waivers_version", "waivers", ["tenant_id", "model_version_id"])
    op.create_index("ix_waivers_status", "waivers", ["tenant_id", "status", "expires_at"])
    enable_rls(POLICY_TABLES)
    for table in INSERT_ONLY:
        install_insert_only(table)


def downgrade() -> None:
    for table in INSERT_ONLY:
        remove_insert_only(table)
    disable_rls(POLICY_TABLES)
    for table in (
        "waivers",
        "approvals",
        "policy_decisions",
        "policy_activation_requests",
        "policy_activations",
        "policy_bundles",
    ):
        op.drop_table(table)
