"""Migrations are the only way the schema is made, so they must match the models exactly."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from trustplane.audit import merkle
from trustplane.db.migrate import head_revision, schema_status, upgrade
from trustplane.db.session import make_engine
from trustplane.schema import Base


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_database_is_at_head(engine: Engine) -> None:
    status = schema_status(engine)
    assert status.ready
    assert status.current == head_revision() == "0006_model_limitations"


def test_upgrade_to_the_ledger_hashes_existing_events(tmp_path: Path) -> None:
    """Events recorded before migration 0002 become the first leaves of their tenant's tree."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    leaves = [f'{{"seq":{i},"v":1}}' for i in range(11)]
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tenants (id, name, display_name, created_at, created_by)"
                " VALUES ('ten_a', 'a', 'a', '2026-01-01', 'test')"
            )
        )
        conn.execute(text("INSERT INTO ledger_heads (tenant_id, size) VALUES ('ten_a', 11)"))
        for seq, leaf in enumerate(leaves):
            conn.execute(
                text(
                    "INSERT INTO audit_events (tenant_id, seq, id, occurred_at, actor_id,"
                    " action, target_kind, target_id, outcome, correlation_id, leaf)"
                    " VALUES ('ten_a', :seq, :id, '2026-01-01', 'x', 'a', 't', 'i', 'allowed',"
                    " 'c', :leaf)"
                ),
                {"seq": seq, "id": f"evt_{seq}", "leaf": leaf},
            )
    upgrade(url)
    with engine.connect() as conn:
        size, frontier = conn.execute(
            text("SELECT size, frontier FROM ledger_heads WHERE tenant_id = 'ten_a'")
        ).one()
        nodes = conn.execute(text("SELECT count(*) FROM ledger_nodes")).scalar_one()
    engine.dispose()
    expected = merkle.root_from_leaf_hashes(merkle.leaf_hash(x.encode()) for x in leaves)
    assert size == 11
    assert merkle.root(merkle.deserialize_frontier(bytes(frontier), 11), 11) == expected
    assert nodes == 11 + 5 + 2 + 1  # perfect subtrees of 11 leaves: 11 + 5 + 2 + 1
