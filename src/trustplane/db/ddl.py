"""Database-side guarantees that the ORM cannot express, shared by the migrations.

* Row-level security (PostgreSQL): every tenant table admits only rows of the tenant set for
  the transaction (``trustplane.tenant_id``), unless the transaction is in system scope
  (``trustplane.system = 'on'``, used to resolve a credential before the tenant is known).
  ``FORCE`` makes the policies bind the table owner too; only superusers and roles with
  BYPASSRLS escape them, so the application must never connect as one (docs/operations.md).
* Insert-only tables: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).
"""

from __future__ import annotations

from alembic import op

#: Tables whose rows belong to one tenant, with the column that names it (migration 0001).
TENANT_TABLES: dict[str, str] = {
    "tenants": "id",
    "environments": "tenant_id",
    "principals": "tenant_id",
    "api_tokens": "tenant_id",
    "bindings": "tenant_id",
    "oidc_issuers": "tenant_id",
    "oidc_rules": "tenant_id",
    "audit_events": "tenant_id",
    "ledger_heads": "tenant_id",
    "idempotency_records": "tenant_id",
}

#: Tables added with the Merkle ledger (migration 0002).
LEDGER_TABLES: dict[str, str] = {"ledger_nodes": "tenant_id", "ledger_checkpoints": "tenant_id"}

#: Tables added with the registry (migration 0003_registry).
REGISTRY_TABLES: dict[str, str] = {
    table: "tenant_id"
    for table in (
        "datasets",
        "dataset_versions",
        "features",
        "feature_versions",
        "runs",
        "models",
        "model_versions",
        "production_pointers",
        "pointer_history",
        "model_transitions",
        "completeness_rules",
        "lineage_edges",
    )
}

_VISIBLE = (
    "{column} = current_setting('trustplane.tenant_id', true)"
    " OR current_setting('trustplane.system', true) = 'on'"
)


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def enable_rls(tables: dict[str, str]) -> None:
    if not _postgres():
        return
    for table, column in tables.items():
        rule = _VISIBLE.format(column=column)
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({rule}) WITH CHECK ({rule})")


def disable_rls(tables: dict[str, str]) -> None:
    if not _postgres():
        return
    for table in tables:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def install_insert_only(table: str) -> None:
    if _postgres():
        op.execute(
            """
            CREATE OR REPLACE FUNCTION trustplane_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'trustplane: % is insert-only (% refused)', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_insert_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION trustplane_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION trustplane_refuse_change()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'trustplane: {table} is insert-only ({verb} refused)'); END"
        )


def system_scope_for_migration() -> None:
    """Let a data migration see every tenant's rows (the policies bind the owner too)."""
    if _postgres():
        op.execute("SELECT set_config('trustplane.system', 'on', true)")


def remove_insert_only(table: str) -> None:
    if _postgres():
        op.execute(f"DROP TRIGGER IF EXISTS {table}_insert_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
