"""Merkle ledger: perfect-subtree nodes, frontier, signed checkpoints; active-only OIDC uniqueness

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from trustplane.audit import merkle
from trustplane.db.ddl import (
    LEDGER_TABLES,
    disable_rls,
    enable_rls,
    install_insert_only,
    remove_insert_only,
    system_scope_for_migration,
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_heads") as batch:
        batch.add_column(sa.Column("frontier", sa.LargeBinary(), server_default="", nullable=False))
    op.create_table(
        "ledger_nodes",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ledger_nodes_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "level", "idx", name=op.f("pk_ledger_nodes")),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ledger_checkpoints_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "size", name=op.f("pk_ledger_checkpoints")),
    )
    enable_rls(LEDGER_TABLES)
    for table in LEDGER_TABLES:
        install_insert_only(table)
    _backfill_tree()
    with op.batch_alter_table("oidc_issuers") as batch:
        batch.drop_constraint("uq_oidc_issuers_tenant_id_issuer_audience", type_="unique")
    op.create_index(
        "uq_oidc_issuers_active",
        "oidc_issuers",
        ["tenant_id", "issuer", "audience"],
        unique=True,
        postgresql_where=sa.text("disabled_at IS NULL"),
        sqlite_where=sa.text("disabled_at IS NULL"),
    )


def _backfill_tree() -> None:
    """Hash the events recorded before the ledger existed into each tenant's tree."""
    system_scope_for_migration()
    bind = op.get_bind()
    heads = sa.table(
        "ledger_heads", sa.column("tenant_id"), sa.column("size"), sa.column("frontier")
    )
    events = sa.table("audit_events", sa.column("tenant_id"), sa.column("seq"), sa.column("leaf"))
    nodes = sa.table(
        "ledger_nodes",
        sa.column("tenant_id"),
        sa.column("level"),
        sa.column("idx"),
        sa.column("hash"),
    )
    for (tenant_id,) in bind.execute(sa.select(heads.c.tenant_id)).all():
        frontier: list[bytes] = []
        size = 0
        rows = bind.execute(
            sa.select(events.c.seq, events.c.leaf)
            .where(events.c.tenant_id == tenant_id)
            .order_by(events.c.seq)
        )
        batch: list[dict[str, object]] = []
        for seq, leaf in rows:
            if seq != size:
                raise RuntimeError(f"tenant {tenant_id}: audit event {size} is missing")
            frontier, new = merkle.append(frontier, size, merkle.leaf_hash(leaf.encode()))
            batch += [
                {"tenant_id": tenant_id, "level": lv, "idx": i, "hash": h} for lv, i, h in new
            ]
            size += 1
        if batch:
            bind.execute(nodes.insert(), batch)
        bind.execute(
            heads.update()
            .where(heads.c.tenant_id == tenant_id)
            .values(size=size, frontier=merkle.serialize_frontier(frontier))
        )


def downgrade() -> None:
    op.drop_index("uq_oidc_issuers_active", table_name="oidc_issuers")
    with op.batch_alter_table("oidc_issuers") as batch:
        batch.create_unique_constraint(
            "uq_oidc_issuers_tenant_id_issuer_audience", ["tenant_id", "issuer", "audience"]
        )
    for table in LEDGER_TABLES:
        remove_insert_only(table)
    disable_rls(LEDGER_TABLES)
    op.drop_table("ledger_checkpoints")
    op.drop_table("ledger_nodes")
    with op.batch_alter_table("ledger_heads") as batch:
        batch.drop_column("frontier")
