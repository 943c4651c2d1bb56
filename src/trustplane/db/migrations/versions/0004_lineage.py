"""Lineage: OpenLineage events received, kept verbatim and keyed for idempotency

Revision ID: 0004_lineage
Revises: 0003_registry
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from trustplane.db.ddl import disable_rls, enable_rls, install_insert_only, remove_insert_only

revision = "0004_lineage"
down_revision = "0003_registry"
branch_labels = None
depends_on = None

#: Tenant tables of this migration, with the column that names the tenant.
LINEAGE_TABLES: dict[str, str] = {"openlineage_events": "tenant_id"}


def upgrade() -> None:
    op.create_table(
        "openlineage_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("run_uuid", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=16), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("job_namespace", sa.String(length=500), nullable=False),
        sa.Column("job_name", sa.String(length=500), nullable=False),
        sa.Column("producer", sa.String(length=2000), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "event",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "inputs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "outputs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_openlineage_events_run_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_openlineage_events_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_openlineage_events")),
        sa.UniqueConstraint(
            "tenant_id", "run_uuid", "event_type", "event_time", name="uq_openlineage_events_key"
        ),
    )
    op.create_index(
        "ix_openlineage_events_tenant_run", "openlineage_events", ["tenant_id", "run_id"]
    )
    enable_rls(LINEAGE_TABLES)
    install_insert_only("openlineage_events")


def downgrade() -> None:
    remove_insert_only("openlineage_events")
    disable_rls(LINEAGE_TABLES)
    op.drop_index("ix_openlineage_events_tenant_run", table_name="openlineage_events")
    op.drop_table("openlineage_events")
