"""The API's edges: problem details, body limits, correlation ids, idempotency, health."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import TenantCtx
from tests.factories import unique
from trustplane.api.app import create_app
from trustplane.config import Settings

PROBLEM = "application/problem+json"


def _problem(response: Any, status: int, code: str) -> dict[str, object]:
    """``response`` is whatever the test client returns (an httpx or httpx2 response)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"https://trustplane.dev/problems/{code}"
    assert body["status"] == status
    assert "Traceback" not in response.text
    return dict(body)


def test_malformed_json_is_a_400(client: TestClient, tenant: TenantCtx) -> None:
    response = client.post(
        "/api/v1/principals/users",
        content=b'{"name": ',
        headers={**tenant.admin_headers, "Content-Type": "application/json"},
    )
    _problem(response, 400, "malformed-json")


def test_wrong_types_and_unknown_fields_are_422(client: TestClient, tenant: TenantCtx) -> None:
    wrong = client.post("/api/v1/environments", json={"name": 42}, headers=tenant.admin_headers)
    body = _problem(wrong, 422, "validation-error")
    assert "name" in str(body["detail"])
    extra = client.post(
        "/api/v1/principals/users",
        json={"name": unique("u"), "is_admin": True},
        headers=tenant.admin_headers,
    )
    body = _problem(extra, 422, "validation-error")
    assert "is_admin" in str(body["detail"])


def test_huge_bodies_are_refused_with_413(client: TestClient, tenant: TenantCtx) -> None:
    declared = client.post(
        "/api/v1/principals/users",
        content=b"x" * 2_000_000,
        headers={**tenant.admin_headers, "Content-Type": "application/json"},
    )
    _problem(declared, 413, "payload-too-large")

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"y" * 65_536

    streamed = client.post(
        "/api/v1/principals/users",
        content=chunks(),
        headers={**tenant.admin_headers, "Content-Type": "application/json"},
    )
    _problem(streamed, 413, "payload-too-large")


def test_unknown_route_and_method(client: TestClient) -> None:
    _problem(client.get("/api/v1/no-such-thing"), 404, "not-found")
    _problem(client.delete("/api/v1/whoami"), 405, "method-not-allowed")


def test_bad_credentials(client: TestClient) -> None:
    for header in ("Bearer", "Basic abc", "Bearer tp_unknown", "Bearer not-a-token"):
        body = _problem(
            client.get("/api/v1/whoami", headers={"Authorization": header}), 401, "unauthenticated"
        )
        assert body["detail"]


def test_correlation_id_is_generated_echoed_and_sanitised(client: TestClient) -> None:
    generated = client.get("/healthz").headers["x-correlation-id"]
    assert len(generated) == 26
    assert (
        client.get("/healthz", headers={"X-Correlation-ID": "abc-123"}).headers["x-correlation-id"]
        == "abc-123"
    )
    hostile = client.get("/healthz", headers={"X-Correlation-ID": "a b\tc<script>"})
    assert hostile.headers["x-correlation-id"] != "a b\tc<script>"


def test_idempotency_key_replays_the_same_response_once(
    client: TestClient, tenant: TenantCtx
) -> None:
    headers = {**tenant.admin_headers, "Idempotency-Key": unique("key")}
    body = {"name": unique("svc")}
    first = client.post("/api/v1/principals/service-accounts", json=body, headers=headers)
    second = client.post("/api/v1/principals/service-accounts", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotency-replayed"] == "true"
    listed = client.get(
        "/api/v1/principals", params={"kind": "service_account"}, headers=tenant.admin_headers
    ).json()["items"]
    assert [p["name"] for p in listed].count(body["name"]) == 1
    events = client.get(
        "/api/v1/audit/events",
        params={"target_id": first.json()["id"]},
        headers=tenant.admin_headers,
    ).json()["items"]
    assert len(events) == 1

    different = client.post(
        "/api/v1/principals/service-accounts", json={"name": unique("other")}, headers=headers
    )
    _problem(different, 409, "idempotency-conflict")


def test_idempotent_replay_never_reveals_a_secret_twice(
    client: TestClient, tenant: TenantCtx
) -> None:
    headers = {**tenant.admin_headers, "Idempotency-Key": unique("key")}
    first = client.post("/api/v1/tokens", json={"name": "ci"}, headers=headers)
    assert first.status_code == 201
    again = client.post("/api/v1/tokens", json={"name": "ci"}, headers=headers)
    body = _problem(again, 409, "idempotency-conflict")
    assert "shown only once" in str(body["detail"])


def test_failed_requests_are_not_recorded_for_replay(client: TestClient, tenant: TenantCtx) -> None:
    headers = {**tenant.admin_headers, "Idempotency-Key": unique("key")}
    name = unique("dup")
    client.post("/api/v1/principals/users", json={"name": name}, headers=tenant.admin_headers)
    failed = client.post("/api/v1/principals/users", json={"name": name}, headers=headers)
    _problem(failed, 409, "conflict")
    retried = client.post("/api/v1/principals/users", json={"name": unique("n")}, headers=headers)
    assert retried.status_code == 201


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["current_revision"] == ready.json()["head_revision"]
    assert client.get("/openapi.json").json()["info"]["title"] == "Trustplane"


def test_readiness_fails_before_migrations(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'new.db'}"))
    with TestClient(app) as fresh:
        response = fresh.get("/readyz")
    assert response.status_code == 503
    assert response.json()["current_revision"] is None


def test_lost_database_connections_answer_503_then_recover(
    backend: str, client: TestClient, tenant: TenantCtx, database_url: str, engine: Engine
) -> None:
    """A connection killed under the server is a 503 problem, never a 500, and heals itself."""
    if backend != "postgresql":
        pytest.skip("needs a database server whose connections can be terminated")
    import psycopg
    from sqlalchemy.engine import make_url

    from tests.backends import admin_url

    database = make_url(database_url).database
    assert client.get("/api/v1/whoami", headers=tenant.admin_headers).status_code == 200
    admin = make_url(admin_url()).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )
    engine.dispose()  # the test's own pool lost its connections too
    statuses = [
        client.get("/api/v1/whoami", headers=tenant.admin_headers).status_code for _ in range(3)
    ]
    assert statuses[0] in (200, 503)
    assert statuses[-1] == 200
    if statuses[0] == 503:
        body = client.get("/api/v1/whoami", headers=tenant.admin_headers)
        assert body.status_code == 200
