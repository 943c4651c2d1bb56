"""The OIDC administration API: registering, listing and disabling issuers and claim rules."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.factories import add_member, bootstrap_tenant
from tests.identity.oidc_kit import (
    add_rule,
    ec_key,
    jwks,
    new_issuer,
    register_issuer,
    rsa_key,
    service_account,
)

ISSUERS = "/api/v1/oidc/issuers"
RULES = "/api/v1/oidc/rules"


def _events(client: TestClient, tenant: TenantCtx, action: str) -> list[dict[str, Any]]:
    response = client.get(
        "/api/v1/audit/events", params={"action": action}, headers=tenant.admin_headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _post(client: TestClient, tenant: TenantCtx, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json=body, headers=tenant.admin_headers)


# --- issuers -----------------------------------------------------------------------------------


def test_register_inline_issuer(client: TestClient, tenant: TenantCtx) -> None:
    issuer = new_issuer()
    body = register_issuer(
        client, tenant, issuer, "trustplane", keys=jwks(rsa_key(), ec_key("ec-7"))
    )
    assert set(body) == {
        "id",
        "issuer",
        "audience",
        "jwks_source",
        "jwks_path",
        "key_ids",
        "created_at",
        "created_by",
        "disabled_at",
    }
    assert body["issuer"] == issuer
    assert body["audience"] == "trustplane"
    assert body["jwks_source"] == "inline"
    assert body["jwks_path"] is None
    assert body["key_ids"] == ["rsa-1", "ec-7"]
    assert body["created_by"] == tenant.admin_id
    assert body["disabled_at"] is None
    events = _events(client, tenant, "oidc.issuer.register")
    assert [e["target"]["id"] for e in events] == [body["id"]]
    assert events[0]["payload"]["key_ids"] == ["rsa-1", "ec-7"]
    assert events[0]["payload"]["jwks_source"] == "inline"


def test_register_file_issuer(client: TestClient, tenant: TenantCtx, tmp_path: Path) -> None:
    path = tmp_path / "ci-jwks.json"
    path.write_text(json.dumps(jwks(rsa_key("file-key"))), encoding="utf-8")
    body = register_issuer(client, tenant, new_issuer(), "aud", jwks_path=str(path))
    assert body["jwks_source"] == "file"
    assert body["jwks_path"] == str(path)
    assert body["key_ids"] == ["file-key"]


def test_http_issuer_is_accepted_for_localhost_only(client: TestClient, tenant: TenantCtx) -> None:
    keys = jwks(rsa_key())
    ok = register_issuer(client, tenant, "http://localhost:8080/oidc", "aud", keys=keys)
    assert ok["issuer"] == "http://localhost:8080/oidc"
    response = _post(
        client,
        tenant,
        ISSUERS,
        {"issuer": "http://ci.example.com", "audience": "aud", "jwks": keys},
    )
    assert response.status_code == 400
    assert "https" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"issuer": "ci.example.com"}, "must be an https URL"),
        ({"issuer": "ftp://ci.example.com"}, "must be an https URL"),
        ({"issuer": "https://"}, "must be an https URL"),
        ({"issuer": "https://ci.example.com/?x=1"}, "must not have a query"),
        ({"issuer": "https://user@ci.example.com"}, "user information"),
        ({"jwks": None}, "exactly one of 'jwks'"),
        ({"jwks_path": "/etc/jwks.json"}, "exactly one of 'jwks'"),
        ({"jwks": {"keys": []}}, "jwks: the JWKS has no usable public signing key"),
        ({"jwks": {"kty": "RSA"}}, "jwks: a JWKS must be a JSON object with a 'keys' array"),
        ({"jwks": None, "jwks_path": "relative/jwks.json"}, "jwks_path: the path must be absolute"),
        ({"jwks": None, "jwks_path": "/nonexistent/jwks.json"}, "jwks_path: the JWKS file cannot"),
    ],
)
def test_invalid_issuers_are_refused(
    client: TestClient, tenant: TenantCtx, body: dict[str, Any], detail: str
) -> None:
    request = {"issuer": new_issuer(), "audience": "aud", "jwks": jwks(rsa_key()), **body}
    response = _post(client, tenant, ISSUERS, request)
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "https://trustplane.dev/problems/invalid-input"
    assert detail in response.json()["detail"]


def test_jwks_with_private_key_material_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    key = rsa_key()
    private = jwt.get_algorithm_by_name("RS256").to_jwk(key.private, as_dict=True)
    assert "d" in private
    response = _post(
        client,
        tenant,
        ISSUERS,
        {"issuer": new_issuer(), "audience": "aud", "jwks": {"keys": [private]}},
    )
    assert response.status_code == 400
    assert "private or secret key material" in response.json()["detail"]
    assert _events(client, tenant, "oidc.issuer.register") == []


def test_unknown_fields_are_a_validation_error(client: TestClient, tenant: TenantCtx) -> None:
    response = _post(
        client,
        tenant,
        ISSUERS,
        {"issuer": new_issuer(), "audience": "aud", "jwks": jwks(rsa_key()), "jwks_url": "x"},
    )
    assert response.status_code == 422


def test_duplicate_registration_conflicts(client: TestClient, tenant: TenantCtx) -> None:
    issuer = new_issuer()
    register_issuer(client, tenant, issuer, "aud", keys=jwks(rsa_key()))
    again = _post(
        client, tenant, ISSUERS, {"issuer": issuer, "audience": "aud", "jwks": jwks(rsa_key())}
    )
    assert again.status_code == 409
    assert "already registered" in again.json()["detail"]
    other_audience = register_issuer(client, tenant, issuer, "aud-2", keys=jwks(rsa_key()))
    assert other_audience["audience"] == "aud-2"


def test_list_issuers_is_paginated(client: TestClient, tenant: TenantCtx) -> None:
    ids = [
        register_issuer(client, tenant, new_issuer(), "aud", keys=jwks(rsa_key()))["id"]
        for _ in range(3)
    ]
    first = client.get(ISSUERS, params={"limit": 2}, headers=tenant.admin_headers).json()
    assert [i["id"] for i in first["items"]] == ids[:2]
    rest = client.get(
        ISSUERS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=tenant.admin_headers
    ).json()
    assert [i["id"] for i in rest["items"]] == ids[2:]
    assert rest["next_cursor"] is None


def test_disable_issuer(client: TestClient, tenant: TenantCtx) -> None:
    registered = register_issuer(client, tenant, new_issuer(), "aud", keys=jwks(rsa_key()))
    path = f"{ISSUERS}/{registered['id']}/disable"
    disabled = _post(client, tenant, path, {"reason": "CI system retired"})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled_at"] is not None
    assert _post(client, tenant, path, {"reason": "again"}).status_code == 409
    events = _events(client, tenant, "oidc.issuer.disable")
    assert [(e["target"]["id"], e["reason"]) for e in events] == [
        (registered["id"], "CI system retired")
    ]
    account = service_account(client, tenant)
    rule = _post(
        client,
        tenant,
        RULES,
        {
            "issuer_id": registered["id"],
            "service_account_id": account,
            "conditions": [{"claim": "sub", "match": "equals", "value": "x"}],
        },
    )
    assert rule.status_code == 409
    assert "disabled" in rule.json()["detail"]


def test_disable_needs_a_reason(client: TestClient, tenant: TenantCtx) -> None:
    registered = register_issuer(client, tenant, new_issuer(), "aud", keys=jwks(rsa_key()))
    response = _post(client, tenant, f"{ISSUERS}/{registered['id']}/disable", {})
    assert response.status_code == 422


# --- rules -------------------------------------------------------------------------------------


def test_create_list_and_disable_rule(client: TestClient, tenant: TenantCtx) -> None:
    registered = register_issuer(client, tenant, new_issuer(), "aud", keys=jwks(rsa_key()))
    account = service_account(client, tenant)
    rule = add_rule(
        client,
        tenant,
        registered["id"],
        account,
        ("sub", "glob", "repo:acme/*:ref:refs/heads/main"),
        ("environment", "equals", "prod"),
    )
    assert set(rule) == {
        "id",
        "issuer_id",
        "service_account_id",
        "conditions",
        "description",
        "created_at",
        "created_by",
        "disabled_at",
    }
    assert rule["issuer_id"] == registered["id"]
    assert rule["service_account_id"] == account
    assert rule["conditions"] == [
        {"claim": "sub", "match": "glob", "value": "repo:acme/*:ref:refs/heads/main"},
        {"claim": "environment", "match": "equals", "value": "prod"},
    ]
    assert rule["description"] == "test rule"
    assert rule["created_by"] == tenant.admin_id
    assert rule["disabled_at"] is None
    listed = client.get(RULES, headers=tenant.admin_headers).json()
    assert [r["id"] for r in listed["items"]] == [rule["id"]]
    disabled = _post(client, tenant, f"{RULES}/{rule['id']}/disable", {"reason": "moved repo"})
    assert disabled.status_code == 200
    assert disabled.json()["disabled_at"] is not None
    again = _post(client, tenant, f"{RULES}/{rule['id']}/disable", {"reason": "moved repo"})
    assert again.status_code == 409
    created = _events(client, tenant, "oidc.rule.create")
    assert [e["target"]["id"] for e in created] == [rule["id"]]
    assert created[0]["payload"]["conditions"] == rule["conditions"]
    assert [e["reason"] for e in _events(client, tenant, "oidc.rule.disable")] == ["moved repo"]


def _rule_body(issuer_id: str, account_id: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "issuer_id": issuer_id,
        "service_account_id": account_id,
        "conditions": [{"claim": "sub", "match": "equals", "value": "x"}],
        "description": "",
    }
    body.update(extra)
    return body


def test_rule_must_map_to_an_active_service_account(client: TestClient, tenant: TenantCtx) -> None:
    issuer_id = register_issuer(client, tenant, new_issuer(), "aud", keys=jwks(rsa_key()))["id"]
    user = _post(client, tenant, RULES, _rule_body(issuer_id, tenant.admin_id))
    assert user.status_code == 400
    assert "is not a service account" in user.json()["detail"]
    missing = _post(client, tenant, RULES, _rule_body(issuer_id, "pr_does-not-exist"))
    assert missing.status_code == 404
    account = service_account(client, tenant)
    _post(client, tenant, f"/api/v1/principals/{account}/disable", {"reason": "gone"})
    disabled = _post(client, tenant, RULES, _rule_body(issuer_id, account))
    assert disabled.status_code == 409


@pytest.mark.parametrize(
    ("conditions", "status"),
    [
        ([], 422),
        ([{"claim": "sub", "match": "regex", "value": ".*"}], 422),
        ([{"claim": "sub", "match": "equals", "value": ""}], 422),
        ([{"claim": "sub", "match": "equals", "value": "x", "extra": 1}], 422),
        ([{"claim": "exp", "match": "equals", "value": "1"}], 400),
    ],
)
def test_invalid_conditions_are_refused(
    client: TestClient, tenant: TenantCtx, conditions: list[dict[str, Any]], status: int
) -> None:
    issuer_id = register_issuer(client, tenant, new_issuer(), "aud", keys=jwks(rsa_key()))["id"]
    account = service_account(client, tenant)
    body = _rule_body(issuer_id, account, conditions=conditions)
    assert _post(client, tenant, RULES, body).status_code == status


# --- tenancy and permissions -------------------------------------------------------------------


def test_other_tenants_issuers_and_rules_are_invisible(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    registered = register_issuer(client, tenant, new_issuer(), "aud", keys=jwks(rsa_key()))
    account = service_account(client, tenant)
    rule = add_rule(client, tenant, registered["id"], account)
    other = bootstrap_tenant(session_factory)
    assert client.get(ISSUERS, headers=other.admin_headers).json()["items"] == []
    assert client.get(RULES, headers=other.admin_headers).json()["items"] == []
    for path in (f"{ISSUERS}/{registered['id']}/disable", f"{RULES}/{rule['id']}/disable"):
        response = _post(client, other, path, {"reason": "hostile"})
        assert response.status_code == 404, path
        assert response.json()["type"] == "https://trustplane.dev/problems/not-found"
    own_account = service_account(client, other)
    into_a = _post(client, other, RULES, _rule_body(registered["id"], own_account))
    assert into_a.status_code == 404
    own_issuer = register_issuer(client, other, new_issuer(), "aud", keys=jwks(rsa_key()))
    to_a_account = _post(client, other, RULES, _rule_body(own_issuer["id"], account))
    assert to_a_account.status_code == 404
    mine = client.get(ISSUERS, headers=tenant.admin_headers).json()["items"]
    assert [(i["id"], i["disabled_at"]) for i in mine] == [(registered["id"], None)]


def test_members_without_access_admin_cannot_change_trust(
    client: TestClient, tenant: TenantCtx
) -> None:
    trainer = add_member(client, tenant, "trainer")
    body = {"issuer": new_issuer(), "audience": "aud", "jwks": jwks(rsa_key())}
    response = client.post(ISSUERS, json=body, headers=trainer.headers)
    assert response.status_code == 403
    assert "access.admin" in response.json()["detail"]
    assert client.get(ISSUERS, headers=trainer.headers).status_code == 403
    manager = add_member(client, tenant, "access-manager")
    assert client.post(ISSUERS, json=body, headers=manager.headers).status_code == 403


def test_auditor_reads_but_cannot_write(client: TestClient, tenant: TenantCtx) -> None:
    registered = register_issuer(client, tenant, new_issuer(), "aud", keys=jwks(rsa_key()))
    auditor = add_member(client, tenant, "auditor")
    listed = client.get(ISSUERS, headers=auditor.headers)
    assert listed.status_code == 200
    assert [i["id"] for i in listed.json()["items"]] == [registered["id"]]
    assert client.get(RULES, headers=auditor.headers).status_code == 200
    disable = client.post(
        f"{ISSUERS}/{registered['id']}/disable", json={"reason": "nope"}, headers=auditor.headers
    )
    assert disable.status_code == 403


def test_jwks_path_must_be_a_regular_file(
    client: TestClient, tenant: TenantCtx, tmp_path: Path
) -> None:
    """A directory or a FIFO is refused at once (a FIFO would otherwise block the reader)."""
    paths = [tmp_path]
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "jwks.fifo"
        os.mkfifo(fifo)
        paths.append(fifo)
    for path in paths:
        body = {"issuer": new_issuer(), "audience": "aud", "jwks": None, "jwks_path": str(path)}
        response = _post(client, tenant, ISSUERS, body)
        assert response.status_code == 400, path
        assert "not a regular file" in response.json()["detail"]
