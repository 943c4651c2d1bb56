from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import TenantCtx
from tests.factories import add_member


def test_whoami_answers_for_the_bootstrap_admin(client: TestClient, tenant: TenantCtx) -> None:
    response = client.get("/api/v1/whoami", headers=tenant.admin_headers)
    assert response.status_code == 200
    body = response.json()
    assert body["principal_id"] == tenant.admin_id
    assert body["tenant_name"] == tenant.name
    assert {g["role"] for g in body["grants"]} == {"tenant-admin", "platform-admin"}
    assert "access.admin" in body["permissions"]


def test_whoami_lists_a_members_roles(client: TestClient, tenant: TenantCtx) -> None:
    member = add_member(client, tenant, "trainer")
    body = client.get("/api/v1/whoami", headers=member.headers).json()
    assert [g["role"] for g in body["grants"]] == ["trainer"]
    assert "run.record" in body["permissions"]
    assert "model.approve" not in body["permissions"]


def test_missing_token_is_a_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/whoami")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://trustplane.dev/problems/unauthenticated"
    assert response.headers["www-authenticate"] == "Bearer"
