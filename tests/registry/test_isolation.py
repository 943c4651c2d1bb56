"""Registry tables are tenant-isolated in the database itself (PostgreSQL row-level security)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.registry.kit import API, Team, act, build, make_team, ok
from trustplane.db.ddl import REGISTRY_TABLES
from trustplane.db.session import scope_to_tenant


def _promoted(client: TestClient, team: Team) -> None:
    """Put a row in every registry table for the team's tenant."""
    built = build(client, team)
    etag = built.etag
    for action, member, extra in (
        ("submit", team.trainer, {}),
        ("validate", team.validator, {}),
        ("approve", team.approver, {}),
        ("promote", team.deployer, {"environment": "prod"}),
    ):
        etag = ok(act(client, member.headers, built.version_id, action, etag, **extra))["etag"]
    h = team.engineer.headers
    feature = ok(client.post(f"{API}/features", json={"name": "f"}, headers=h), 201)
    body = {
        "version": "1",
        "definition": "x",
        "source_dataset_versions": [built.dataset_version_id],
    }
    ok(client.post(f"{API}/features/{feature['id']}/versions", json=body, headers=h), 201)
    ok(
        client.put(
            f"{API}/completeness-rules/low",
            json={"required": ["owner"]},
            headers=team.tenant.admin_headers,
        )
    )


def test_raw_sql_sees_only_the_scoped_tenant(
    backend: str,
    client: TestClient,
    tenant: TenantCtx,
    other_tenant: TenantCtx,
    session_factory: sessionmaker[Session],
) -> None:
    if backend != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature; SQLite relies on repositories")
    _promoted(client, make_team(client, tenant))
    _promoted(client, make_team(client, other_tenant))
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        for table in REGISTRY_TABLES:
            seen = set(session.scalars(text(f"SELECT tenant_id FROM {table}")))  # noqa: S608
            assert seen == {tenant.id}, table
        with pytest.raises(DBAPIError, match="row-level security"):
            session.execute(
                text(
                    "INSERT INTO lineage_edges (tenant_id, source_id, target_id, relation,"
                    " created_at) VALUES (:t, 'dv_x', 'run_x', 'input', now())"
                ),
                {"t": other_tenant.id},
            )
        session.rollback()
    with session_factory() as session:
        for table in REGISTRY_TABLES:
            assert session.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table  # noqa: S608
