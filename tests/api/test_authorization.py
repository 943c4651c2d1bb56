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


#: Lineage routes and the permission each must declare: ingest writes, every query reads.
LINEAGE_ROUTES = {
    ("POST", "/api/v1/lineage"): "lineage.write",
    ("GET", "/api/v1/lineage/upstream"): "lineage.read",
    ("GET", "/api/v1/lineage/downstream"): "lineage.read",
    ("GET", "/api/v1/lineage/show"): "lineage.read",
    ("GET", "/api/v1/lineage/impact"): "lineage.read",
    ("GET", "/api/v1/lineage/path"): "lineage.read",
    ("GET", "/api/v1/lineage/completeness"): "lineage.read",
    ("GET", "/api/v1/lineage/deprecated-features"): "lineage.read",
    ("GET", "/api/v1/lineage/flagged-datasets"): "lineage.read",
    ("GET", "/api/v1/lineage/events"): "lineage.read",
    ("GET", "/api/v1/lineage/events/{event_id}"): "lineage.read",
}


def test_lineage_routes_declare_their_permissions(tmp_path: Any) -> None:
    app = create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    declared = {
        (method, e.path): e.declared
        for e in api_routes(app)
        if e.path.startswith("/api/v1/lineage")
        for method in e.methods
    }
    assert declared == LINEAGE_ROUTES


#: Registry routes and the permission each must declare: every lifecycle action its own verb.
REGISTRY_ROUTES = {
    ("GET", "/api/v1/completeness-rules"): "model.read",
    ("PUT", "/api/v1/completeness-rules/{risk_tier}"): "policy.write",
    ("GET", "/api/v1/datasets"): "dataset.read",
    ("POST", "/api/v1/datasets"): "dataset.register",
    ("GET", "/api/v1/datasets/{dataset_id}"): "dataset.read",
    ("GET", "/api/v1/datasets/{dataset_id}/versions"): "dataset.read",
    ("POST", "/api/v1/datasets/{dataset_id}/versions"): "dataset.register",
    ("GET", "/api/v1/dataset-versions/{version_id}"): "dataset.read",
    ("POST", "/api/v1/dataset-versions/{version_id}/approval"): "dataset.approve",
    ("POST", "/api/v1/dataset-versions/{version_id}/flag"): "dataset.flag",
    ("GET", "/api/v1/features"): "feature.read",
    ("POST", "/api/v1/features"): "feature.define",
    ("GET", "/api/v1/features/{feature}"): "feature.read",
    ("POST", "/api/v1/features/{feature}/deprecate"): "feature.deprecate",
    ("GET", "/api/v1/features/{feature}/versions"): "feature.read",
    ("POST", "/api/v1/features/{feature}/versions"): "feature.define",
    ("GET", "/api/v1/feature-versions/{version_id}"): "feature.read",
    ("POST", "/api/v1/feature-versions/{version_id}/deprecate"): "feature.deprecate",
    ("POST", "/api/v1/feature-versions/{version_id}/review"): "feature.review",
    ("GET", "/api/v1/runs"): "run.read",
    ("POST", "/api/v1/runs"): "run.record",
    ("GET", "/api/v1/runs/{run_id}"): "run.read",
    ("GET", "/api/v1/models"): "model.read",
    ("POST", "/api/v1/models"): "model.register",
    ("GET", "/api/v1/models/{model}"): "model.read",
    ("GET", "/api/v1/models/{model}/at"): "model.read",
    ("GET", "/api/v1/models/{model}/history"): "model.read",
    ("GET", "/api/v1/models/{model}/production"): "model.read",
    ("GET", "/api/v1/models/{model}/versions"): "model.read",
    ("POST", "/api/v1/models/{model}/versions"): "model.register",
    ("GET", "/api/v1/models/{model}/versions/{number}"): "model.read",
    ("GET", "/api/v1/model-versions/{version_id}"): "model.read",
    ("GET", "/api/v1/model-versions/{version_id}/completeness"): "model.read",
    ("GET", "/api/v1/model-versions/{version_id}/history"): "model.read",
    ("GET", "/api/v1/model-versions/{version_id}/card"): "model.read",
    ("PUT", "/api/v1/model-versions/{version_id}/tags/{key}"): "model.register",
    ("POST", "/api/v1/model-versions/{version_id}/submit"): "model.submit",
    ("POST", "/api/v1/model-versions/{version_id}/validate"): "model.validate",
    ("POST", "/api/v1/model-versions/{version_id}/approve"): "model.approve",
    ("POST", "/api/v1/model-versions/{version_id}/reject"): "model.reject",
    ("POST", "/api/v1/model-versions/{version_id}/promote"): "model.promote",
    ("POST", "/api/v1/model-versions/{version_id}/deprecate"): "model.deprecate",
    ("POST", "/api/v1/model-versions/{version_id}/retire"): "model.retire",
    ("POST", "/api/v1/model-versions/{version_id}/suspend"): "model.suspend",
    ("POST", "/api/v1/model-versions/{version_id}/reinstate"): "model.reinstate",
    # a sign-off's permission (approve or reject) depends on the body; the service checks it in
    # the environment named there
    ("POST", "/api/v1/model-versions/{version_id}/approvals"): "authenticated",
    ("GET", "/api/v1/model-versions/{version_id}/approvals"): "model.read",
}
REGISTRY_PREFIXES = (
    "/api/v1/completeness-rules",
    "/api/v1/datasets",
    "/api/v1/dataset-versions",
    "/api/v1/features",
    "/api/v1/feature-versions",
    "/api/v1/runs",
    "/api/v1/models",
    "/api/v1/model-versions",
)


#: Policy, decision and waiver routes and the permission each must declare.
POLICY_ROUTES = {
    ("POST", "/api/v1/policy/bundles"): "policy.write",
    ("GET", "/api/v1/policy/bundles"): "policy.read",
    ("GET", "/api/v1/policy/bundles/active"): "policy.read",
    ("GET", "/api/v1/policy/bundles/{digest}"): "policy.read",
    ("POST", "/api/v1/policy/bundles/{digest}/activate"): "policy.write",
    ("GET", "/api/v1/policy/activations"): "policy.read",
    ("GET", "/api/v1/policy/activation-requests"): "policy.read",
    ("POST", "/api/v1/policy/activation-requests/{request_id}/approve"): "policy.approve",
    ("POST", "/api/v1/policy/eval"): "decision.read",
    ("POST", "/api/v1/policy/gate"): "decision.read",
    ("GET", "/api/v1/decisions"): "decision.read",
    ("GET", "/api/v1/decisions/{decision_id}"): "decision.read",
    ("POST", "/api/v1/decisions/{decision_id}/replay"): "decision.read",
    ("POST", "/api/v1/waivers"): "waiver.request",
    ("GET", "/api/v1/waivers"): "waiver.read",
    ("GET", "/api/v1/waivers/report"): "waiver.read",
    ("POST", "/api/v1/waivers/sweep"): "waiver.approve",
    ("GET", "/api/v1/waivers/{waiver_id}"): "waiver.read",
    ("POST", "/api/v1/waivers/{waiver_id}/approve"): "waiver.approve",
    ("POST", "/api/v1/waivers/{waiver_id}/reject"): "waiver.approve",
}


def test_policy_routes_declare_their_permissions(tmp_path: Any) -> None:
    app = create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    declared = {
        (method, e.path): e.declared
        for e in api_routes(app)
        if e.path.startswith(("/api/v1/policy", "/api/v1/decisions", "/api/v1/waivers"))
        for method in e.methods
    }
    assert declared == POLICY_ROUTES


def test_registry_routes_declare_their_permissions(tmp_path: Any) -> None:
    app = create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    declared = {
        (method, e.path): e.declared
        for e in api_routes(app)
        if e.path.startswith(REGISTRY_PREFIXES)
        for method in e.methods
    }
    assert declared == REGISTRY_ROUTES


EVIDENCE_ROUTES = {
    ("GET", "/api/v1/releases"): "model.read",
    ("GET", "/api/v1/releases/{release_id}"): "model.read",
    ("GET", "/api/v1/releases/{release_id}/evidence"): "audit.read",
    ("GET", "/api/v1/evidence/public-key"): "audit.read",
}


def test_evidence_routes_declare_their_permissions(tmp_path: Any) -> None:
    app = create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    declared = {
        (method, e.path): e.declared
        for e in api_routes(app)
        if e.path.startswith(("/api/v1/releases", "/api/v1/evidence"))
        for method in e.methods
    }
    assert declared == EVIDENCE_ROUTES
