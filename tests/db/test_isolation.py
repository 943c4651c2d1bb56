"""Tenant isolation in the database itself (PostgreSQL row-level security)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.factories import bootstrap_tenant
from trustplane.db.session import scope_to_tenant, system_scope

TABLES = ("tenants", "environments", "principals", "api_tokens", "bindings", "audit_events")


@pytest.fixture
def two_tenants(session_factory: sessionmaker[Session]) -> tuple[TenantCtx, TenantCtx]:
    return bootstrap_tenant(session_factory), bootstrap_tenant(session_factory)


def _only_postgres(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature; SQLite relies on repositories")


def test_raw_sql_without_tenant_filter_sees_only_the_scoped_tenant(
    backend: str, session_factory: sessionmaker[Session], two_tenants: tuple[TenantCtx, TenantCtx]
) -> None:
    _only_postgres(backend)
    a, b = two_tenants
    with session_factory() as session:
        scope_to_tenant(session, a.id)
        for table in TABLES:
            column = "id" if table == "tenants" else "tenant_id"
            seen = set(session.scalars(text(f"SELECT {column} FROM {table}")))  # noqa: S608
            assert seen == {a.id}, table
        session.commit()  # the scope survives into the next transaction
        assert set(session.scalars(text("SELECT tenant_id FROM principals"))) == {a.id}
        assert b.id not in set(session.scalars(text("SELECT id FROM tenants")))


def test_unscoped_session_sees_nothing(
    backend: str, session_factory: sessionmaker[Session], two_tenants: tuple[TenantCtx, TenantCtx]
) -> None:
    _only_postgres(backend)
    with session_factory() as session:
        for table in TABLES:
            count = session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
            assert count == 0, table


def test_scope_never_outlives_its_transaction(
    backend: str, session_factory: sessionmaker[Session], two_tenants: tuple[TenantCtx, TenantCtx]
) -> None:
    """A new transaction sets no scope (saving a round trip): it must inherit none either,
    from an earlier transaction on the same pooled connection, tenant or system scope alike."""
    _only_postgres(backend)
    with session_factory() as session:
        with system_scope(session):
            assert session.scalar(text("SELECT count(*) FROM tenants")) >= 2
        session.commit()
        scope_to_tenant(session, two_tenants[0].id)
        assert session.scalar(text("SELECT count(*) FROM tenants")) == 1
        session.commit()
    for _ in range(3):  # the pool hands back the connections those transactions used
        with session_factory() as session:
            for table in TABLES:
                count = session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
                assert count == 0, table


def test_writing_into_another_tenant_is_refused(
    backend: str, session_factory: sessionmaker[Session], two_tenants: tuple[TenantCtx, TenantCtx]
) -> None:
    _only_postgres(backend)
    a, b = two_tenants
    with session_factory() as session:
        scope_to_tenant(session, a.id)
        with pytest.raises(DBAPIError, match="row-level security"):
            session.execute(
                text(
                    "INSERT INTO principals (id, tenant_id, kind, name, display_name, description,"
                    " created_at, created_by) VALUES ('pr_x', :t, 'user', 'intruder', '', '',"
                    " now(), 'test')"
                ),
                {"t": b.id},
            )
        session.rollback()
        scope_to_tenant(session, a.id)
        updated = session.execute(
            text("UPDATE principals SET display_name = 'x' WHERE tenant_id = :t"), {"t": b.id}
        )
        assert updated.rowcount == 0  # type: ignore[attr-defined]
        session.rollback()


def test_app_role_cannot_bypass_rls(backend: str, session_factory: sessionmaker[Session]) -> None:
    """Superusers and BYPASSRLS roles ignore policies; the application must not be one."""
    _only_postgres(backend)
    with session_factory() as session:
        row = session.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
        assert tuple(row) == (False, False)
