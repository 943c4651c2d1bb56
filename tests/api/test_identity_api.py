"""Identity over the API: tenants, environments, principals, tokens, bindings, review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.factories import add_member, bootstrap_tenant, unique
from trustplane.db.session import scope_to_tenant, unit_of_work
from trustplane.identity.models import ApiToken, Binding


def _items(client: TestClient, path: str, headers: dict[str, str], **params: object) -> list[dict]:  # type: ignore[type-arg]
    response = client.get(path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    items: list[dict] = response.json()["items"]  # type: ignore[type-arg]
    return items


def test_bootstrap_creates_default_environments(client: TestClient, tenant: TenantCtx) -> None:
    envs = _items(client, "/api/v1/environments", tenant.admin_headers)
    assert [(e["name"], e["region"], e["sensitivity_ceiling"]) for e in envs] == [
        ("dev", "uk-south", "internal"),
        ("staging", "uk-south", "confidential"),
        ("prod", "uk-south", "restricted-personal"),
    ]


def test_environments_create_and_duplicate(client: TestClient, tenant: TenantCtx) -> None:
    body = {"name": "dr", "region": "uk-west", "sensitivity_ceiling": "confidential"}
    assert (
        client.post("/api/v1/environments", json=body, headers=tenant.admin_headers).status_code
        == 201
    )
    again = client.post("/api/v1/environments", json=body, headers=tenant.admin_headers)
    assert again.status_code == 409
    bad = client.post(
        "/api/v1/environments",
        json={"name": "x", "sensitivity_ceiling": "secret"},
        headers=tenant.admin_headers,
    )
    assert bad.status_code == 422


def test_platform_admin_creates_tenants_others_see_only_their_own(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    created = client.post(
        "/api/v1/tenants", json={"name": unique("bank")}, headers=tenant.admin_headers
    )
    assert created.status_code == 201, created.text
    new_token = created.json()["token"]["token"]
    who = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {new_token}"}).json()
    assert who["tenant_name"] == created.json()["tenant"]["name"]
    assert [g["role"] for g in who["grants"]] == ["tenant-admin"]
    # The new tenant's admin is not a platform admin: it cannot create tenants...
    denied = client.post(
        "/api/v1/tenants",
        json={"name": unique("x")},
        headers={"Authorization": f"Bearer {new_token}"},
    )
    assert denied.status_code == 403
    # ...and lists only its own tenant.
    own = _items(client, "/api/v1/tenants", {"Authorization": f"Bearer {new_token}"})
    assert [t["name"] for t in own] == [created.json()["tenant"]["name"]]
    # The platform admin sees both.
    everyone = {t["id"] for t in _items(client, "/api/v1/tenants", tenant.admin_headers, limit=500)}
    assert {tenant.id, created.json()["tenant"]["id"]} <= everyone


def test_cross_tenant_ids_answer_404(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    other = bootstrap_tenant(session_factory)
    for path in (
        f"/api/v1/principals/{other.admin_id}",
        f"/api/v1/principals/{tenant.admin_id}",
    ):
        status = client.get(path, headers=other.admin_headers).status_code
        assert status == (200 if tenant.admin_id not in path else 404)
    grant = client.post(
        "/api/v1/bindings",
        json={"principal_id": tenant.admin_id, "role": "trainer", "reason": "cross tenant"},
        headers=other.admin_headers,
    )
    assert grant.status_code == 404
    token_id = _items(client, "/api/v1/tokens", tenant.admin_headers)[0]["id"]
    revoke = client.post(f"/api/v1/tokens/{token_id}/revoke", headers=other.admin_headers)
    assert revoke.status_code == 404
    mine = {
        e["tenant"] for e in _items(client, "/api/v1/audit/events", other.admin_headers, limit=500)
    }
    assert mine == {other.id}


def test_token_lifecycle(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    member = add_member(client, tenant, "trainer")  # no token.read: sees only its own tokens
    issued = client.post("/api/v1/tokens", json={"name": "laptop"}, headers=member.headers)
    assert issued.status_code == 201
    secret = issued.json()["token"]
    assert secret.startswith("tp_") and issued.json()["prefix"] == secret[:11]
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/whoami", headers=headers).status_code == 200

    listed = _items(client, "/api/v1/tokens", member.headers)
    assert {t["name"] for t in listed} == {"test", "laptop"}
    assert all("token" not in t and "token_hash" not in t for t in listed)
    laptop = next(t for t in listed if t["name"] == "laptop")
    assert laptop["last_used_at"] is not None

    revoked = client.post(f"/api/v1/tokens/{laptop['id']}/revoke", headers=member.headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = client.get("/api/v1/whoami", headers=headers)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    attempts = _items(
        client,
        "/api/v1/audit/events",
        tenant.admin_headers,
        action="auth.authenticate",
        actor=member.id,
    )
    assert [(e["outcome"], e["reason"]) for e in attempts] == [("denied", refused.json()["detail"])]
    assert attempts[0]["correlation_id"] == refused.headers["x-correlation-id"]
    again = client.post(f"/api/v1/tokens/{laptop['id']}/revoke", headers=member.headers)
    assert again.status_code == 409


def test_expired_token_is_refused(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    member = add_member(client, tenant, "trainer")
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        session.execute(
            update(ApiToken)
            .where(ApiToken.principal_id == member.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    response = client.get("/api/v1/whoami", headers=member.headers)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_issuing_tokens_for_others_needs_token_issue(client: TestClient, tenant: TenantCtx) -> None:
    manager = add_member(client, tenant, "access-manager")
    response = client.post(
        "/api/v1/tokens", json={"principal_id": tenant.admin_id}, headers=manager.headers
    )
    assert response.status_code == 403
    others = client.get(
        "/api/v1/tokens",
        params={"principal_id": tenant.admin_id},
        headers=add_member(client, tenant, "trainer").headers,
    )
    assert others.status_code == 403


def test_disabled_principal_loses_access_at_once(client: TestClient, tenant: TenantCtx) -> None:
    member = add_member(client, tenant, "trainer")
    disabled = client.post(
        f"/api/v1/principals/{member.id}/disable",
        json={"reason": "left the company"},
        headers=tenant.admin_headers,
    )
    assert disabled.status_code == 200
    response = client.get("/api/v1/whoami", headers=member.headers)
    assert response.status_code == 401 and "disabled" in response.json()["detail"]
    grant = client.post(
        "/api/v1/bindings",
        json={"principal_id": member.id, "role": "auditor", "reason": "oops"},
        headers=tenant.admin_headers,
    )
    assert grant.status_code == 409
    self_disable = client.post(
        f"/api/v1/principals/{tenant.admin_id}/disable",
        json={"reason": "test"},
        headers=tenant.admin_headers,
    )
    assert self_disable.status_code == 400


def test_binding_rules(client: TestClient, tenant: TenantCtx) -> None:
    member = add_member(client, tenant)
    base = {"principal_id": member.id, "reason": "on-call rotation"}
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert (
        client.post(
            "/api/v1/bindings",
            json={**base, "role": "deployer", "expires_at": past},
            headers=tenant.admin_headers,
        ).status_code
        == 400
    )
    naive = client.post(
        "/api/v1/bindings",
        json={**base, "role": "deployer", "expires_at": "2099-01-01T00:00:00"},
        headers=tenant.admin_headers,
    )
    assert naive.status_code == 422
    assert (
        client.post(
            "/api/v1/bindings",
            json={**base, "role": "auditor", "environment": "prod"},
            headers=tenant.admin_headers,
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/api/v1/bindings",
            json={**base, "role": "deployer", "environment": "mars"},
            headers=tenant.admin_headers,
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/bindings", json={**base, "role": "wizard"}, headers=tenant.admin_headers
        ).status_code
        == 422
    )
    prod = client.post(
        "/api/v1/bindings",
        json={**base, "role": "deployer", "environment": "prod"},
        headers=tenant.admin_headers,
    )
    assert prod.status_code == 201
    duplicate = client.post(
        "/api/v1/bindings",
        json={**base, "role": "deployer", "environment": "prod"},
        headers=tenant.admin_headers,
    )
    assert duplicate.status_code == 409
    # An environment-scoped grant gives no tenant-wide permission.
    who = client.get("/api/v1/whoami", headers=member.headers).json()
    assert who["grants"][0]["environment_id"] is not None
    assert "model.deploy" not in who["permissions"]

    revoked = client.post(
        f"/api/v1/bindings/{prod.json()['id']}/revoke",
        json={"reason": "rotation ended"},
        headers=tenant.admin_headers,
    )
    assert revoked.status_code == 200
    assert client.get("/api/v1/whoami", headers=member.headers).json()["grants"] == []
    active = _items(client, "/api/v1/bindings", tenant.admin_headers, principal_id=member.id)
    assert active == []
    history = _items(
        client,
        "/api/v1/bindings",
        tenant.admin_headers,
        principal_id=member.id,
        include_revoked=True,
    )
    assert [b["revoke_reason"] for b in history] == ["rotation ended"]


def test_roles_are_listed_with_their_permissions(client: TestClient, tenant: TenantCtx) -> None:
    roles = client.get("/api/v1/roles", headers=tenant.admin_headers).json()
    by_name = {r["name"]: r for r in roles}
    assert by_name["release-approver"]["sensitive"] is True
    assert "model.approve" in by_name["release-approver"]["permissions"]
    assert by_name["auditor"]["tenant_wide_only"] is True


def test_access_review_findings(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    expiring = add_member(client, tenant)
    soon = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    client.post(
        "/api/v1/bindings",
        json={
            "principal_id": expiring.id,
            "role": "deployer",
            "expires_at": soon,
            "reason": "cover",
        },
        headers=tenant.admin_headers,
    )
    stale = add_member(client, tenant, "validator")
    gone = add_member(client, tenant, "trainer")
    lapsed = add_member(client, tenant, "data-steward")
    client.post(
        f"/api/v1/principals/{gone.id}/disable",
        json={"reason": "left"},
        headers=tenant.admin_headers,
    )
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        long_ago = datetime.now(UTC) - timedelta(days=200)
        session.execute(
            update(Binding)
            .where(Binding.principal_id == stale.id)
            .values(created_at=long_ago, last_used_at=long_ago)
        )
        session.execute(
            update(Binding)
            .where(Binding.principal_id == lapsed.id)
            .values(expires_at=datetime.now(UTC) - timedelta(days=1))
        )
    review = client.get(
        "/api/v1/access/review",
        params={"expiring_within_days": 7, "unused_for_days": 90},
        headers=tenant.admin_headers,
    ).json()
    reasons = {f["principal_name"]: f["reasons"] for f in review["findings"]}
    assert reasons[expiring.name] == ["expiring"]
    assert reasons[stale.name] == ["unused"]
    assert reasons[gone.name] == ["principal-disabled"]
    assert reasons[lapsed.name] == ["expired"]
    assert "admin" not in reasons  # used just now


def test_pagination_follows_cursors(client: TestClient, tenant: TenantCtx) -> None:
    for _ in range(5):
        client.post(
            "/api/v1/principals/users", json={"name": unique("p")}, headers=tenant.admin_headers
        )
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/principals", params=params, headers=tenant.admin_headers).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6 and seen == sorted(seen)
    too_many = client.get(
        "/api/v1/principals", params={"limit": 10_000}, headers=tenant.admin_headers
    )
    assert too_many.status_code == 422
