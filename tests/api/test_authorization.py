"""Every route declares its permission; every role is allowed exactly what the table says."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from tests.conftest import TenantCtx
from tests.factories import add_member
from trustplane.api.app import create_app
from trustplane.api.deps import AUTHENTICATED, PERMISSION_ATTR
from trustplane.config import Settings
from trustplane.identity.roles import ROLE_PERMISSIONS, Role

PUBLIC = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
}


def _declarations(dependant: Any) -> Iterator[str]:
    for dep in dependant.dependencies:
        declared = getattr(dep.call, PERMISSION_ATTR, None)
        if declared is not None:
            yield declared
        yield from _declarations(dep)


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: frozenset[str]
    declared: str | None


def api_routes(app: FastAPI) -> list[Endpoint]:
    """Every HTTP endpoint of the app with its full path and its permission declaration."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path is None:
            continue
        declared = list(_declarations(route.dependant))
        one = declared[0] if len(declared) == 1 else None
        found.append(Endpoint(context.path, frozenset(route.methods), one))
    return found


def test_every_route_declares_exactly_one_permission(tmp_path: Any) -> None:
    app = create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    endpoints = api_routes(app)
    assert len(endpoints) >= 15
    undeclared = [
        f"{sorted(e.methods)} {e.path}"
        for e in endpoints
        if e.declared is None and e.path not in PUBLIC
    ]
    assert undeclared == [], f"routes without a permission declaration: {undeclared}"


def _call(client: TestClient, endpoint: Endpoint, headers: dict[str, str]) -> int:
    path = re.sub(r"\{[^}]+\}", "does-not-exist", endpoint.path)
    method = sorted(endpoint.methods - {"HEAD"})[0]
    kwargs: dict[str, Any] = {"headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    return client.request(method, path, **kwargs).status_code


def _app(client: TestClient) -> FastAPI:
    app = client.app
    assert isinstance(app, FastAPI)
    return app


def test_role_matrix(client: TestClient, tenant: TenantCtx) -> None:
    """Each role calls each route: allowed iff the role's permissions hold the declared one."""
    endpoints = [e for e in api_routes(_app(client)) if e.declared is not None]
    assert len(endpoints) >= 15
    mismatches = []
    for role in Role:
        member = add_member(client, tenant, role.value)
        for endpoint in endpoints:
            status = _call(client, endpoint, member.headers)
            allowed = (
                endpoint.declared == AUTHENTICATED or endpoint.declared in ROLE_PERMISSIONS[role]
            )
            if allowed and status in (401, 403):
                mismatches.append(f"{role}: {endpoint} should pass, got {status}")
            if not allowed and status != 403:
                mismatches.append(f"{role}: {endpoint} should be 403, got {status}")
    assert mismatches == []


def test_principal_without_roles_is_denied_everything_but_self_service(
    client: TestClient, tenant: TenantCtx
) -> None:
    nobody = add_member(client, tenant)
    for endpoint in api_routes(_app(client)):
        if endpoint.declared is None:
            continue
        status = _call(client, endpoint, nobody.headers)
        if endpoint.declared == AUTHENTICATED:
            assert status not in (401, 403), endpoint
        else:
            assert status == 403, endpoint


def test_denials_leave_audit_events(client: TestClient, tenant: TenantCtx) -> None:
    trainer = add_member(client, tenant, "trainer")
    denied = client.post(
        "/api/v1/principals/users", json={"name": "mallory"}, headers=trainer.headers
    )
    assert denied.status_code == 403
    events = client.get(
        "/api/v1/audit/events",
        params={"outcome": "denied", "actor": trainer.id},
        headers=tenant.admin_headers,
    ).json()["items"]
    assert len(events) == 1
    assert events[0]["action"] == "principal.write"
    assert events[0]["target"] == {
        "kind": "route",
        "id": "POST /api/v1/principals/users",
        "name": None,
    }
    assert events[0]["correlation_id"] == denied.headers["x-correlation-id"]
    names = [
        p["name"]
        for p in client.get("/api/v1/principals", headers=tenant.admin_headers).json()["items"]
    ]
    assert "mallory" not in names


@pytest.mark.parametrize("role", [Role.RELEASE_APPROVER, Role.RISK_OFFICER])
def test_sensitive_roles_need_access_admin(
    client: TestClient, tenant: TenantCtx, role: Role
) -> None:
    manager = add_member(client, tenant, "access-manager")
    target = add_member(client, tenant)
    ordinary = client.post(
        "/api/v1/bindings",
        json={"principal_id": target.id, "role": "trainer", "reason": "joins team"},
        headers=manager.headers,
    )
    assert ordinary.status_code == 201
    sensitive = client.post(
        "/api/v1/bindings",
        json={"principal_id": target.id, "role": role.value, "reason": "promotion"},
        headers=manager.headers,
    )
    assert sensitive.status_code == 403
    assert "access.admin" in sensitive.json()["detail"]
    by_admin = client.post(
        "/api/v1/bindings",
        json={"principal_id": target.id, "role": role.value, "reason": "promotion"},
        headers=tenant.admin_headers,
    )
    assert by_admin.status_code == 201


def test_nobody_grants_themselves_a_role(client: TestClient, tenant: TenantCtx) -> None:
    response = client.post(
        "/api/v1/bindings",
        json={"principal_id": tenant.admin_id, "role": "release-approver", "reason": "why not"},
        headers=tenant.admin_headers,
    )
    assert response.status_code == 403
    assert "yourself" in response.json()["detail"]
    events = client.get(
        "/api/v1/audit/events",
        params={"outcome": "denied", "action": "binding.grant"},
        headers=tenant.admin_headers,
    ).json()["items"]
    assert [e["target"]["id"] for e in events] == [tenant.admin_id]
