"""The SDK against the in-process API: every method's happy path, typed results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.client.conftest import sdk_for
from tests.conftest import TenantCtx
from tests.factories import unique
from trustplane.client import TrustplaneClient, Unauthenticated
from trustplane.client.models import (
    BootstrapResult,
    EnvironmentRead,
    Page,
    PrincipalRead,
    TokenIssued,
    WhoAmI,
)


def test_whoami(sdk: TrustplaneClient, tenant: TenantCtx) -> None:
    me = sdk.whoami()
    assert isinstance(me, WhoAmI)
    assert (me.principal_id, me.tenant_id, me.tenant_name) == (
        tenant.admin_id,
        tenant.id,
        tenant.name,
    )
    assert me.auth_method == "token"
    assert {g.role for g in me.grants} >= {"tenant-admin"}
    assert "access.admin" in me.permissions


def test_tenants_list_and_create(
    sdk: TrustplaneClient, client: TestClient, tenant: TenantCtx
) -> None:
    assert tenant.name in {t.name for t in sdk.paginate(sdk.list_tenants)}
    name = unique("org")
    result = sdk.create_tenant(name, display_name="Org", admin_name="root")
    assert isinstance(result, BootstrapResult)
    assert (result.tenant.name, result.admin.name) == (name, "root")
    assert [e.name for e in result.environments] == ["dev", "staging", "prod"]
    other = sdk_for(client, result.token.token).whoami()
    assert other.tenant_name == name


def test_environments(sdk: TrustplaneClient) -> None:
    env = sdk.create_environment(
        "dr", region="uk-west", sensitivity_ceiling="confidential", description="disaster"
    )
    assert isinstance(env, EnvironmentRead)
    assert (env.region, env.sensitivity_ceiling, env.description) == (
        "uk-west",
        "confidential",
        "disaster",
    )
    defaults = sdk.create_environment("qa")
    assert defaults.region == "uk-south"  # the server's default, not the SDK's
    names = [e.name for e in sdk.list_environments().items]
    assert names == ["dev", "staging", "prod", "dr", "qa"]


def test_principals_lifecycle(sdk: TrustplaneClient) -> None:
    user = sdk.create_user(unique("ada"), display_name="Ada", email="ada@example.com")
    assert (user.kind, user.email, user.disabled_at) == ("user", "ada@example.com", None)
    account = sdk.create_service_account(unique("ci"), description="CI pipeline")
    assert account.kind == "service_account"
    assert sdk.get_principal(user.id).name == user.name
    accounts = sdk.list_principals(kind="service_account")
    assert [p.id for p in accounts.items] == [account.id]
    disabled = sdk.disable_principal(user.id, "left the company")
    assert isinstance(disabled, PrincipalRead)
    assert disabled.disabled_at is not None


def test_tokens_issue_list_revoke(sdk: TrustplaneClient, client: TestClient) -> None:
    account = sdk.create_service_account(unique("svc"))
    issued = sdk.create_token("ci", principal_id=account.id, expires_in_days=7)
    assert isinstance(issued, TokenIssued)
    assert issued.token.startswith(issued.prefix)
    assert issued.expires_at - issued.created_at == timedelta(days=7)
    listed = sdk.list_tokens(principal_id=account.id)
    assert [t.id for t in listed.items] == [issued.id]
    assert "token" not in listed.api_json()["items"][0]
    as_account = sdk_for(client, issued.token)
    assert as_account.whoami().principal_id == account.id
    revoked = sdk.revoke_token(issued.id)
    assert revoked.revoked_at is not None
    with pytest.raises(Unauthenticated):
        as_account.whoami()


def test_own_token(sdk: TrustplaneClient, tenant: TenantCtx) -> None:
    issued = sdk.create_token()
    assert (issued.principal_id, issued.name) == (tenant.admin_id, "default")


def test_roles_and_bindings(sdk: TrustplaneClient) -> None:
    roles = {r.name: r for r in sdk.list_roles()}
    assert roles["release-approver"].sensitive
    assert "audit.read" in roles["auditor"].permissions
    user = sdk.create_user(unique("bob"))
    binding = sdk.grant(user.id, "trainer", "joins the ML team", environment="dev")
    assert (binding.role, binding.reason) == ("trainer", "joins the ML team")
    assert binding.environment_id is not None
    assert [b.id for b in sdk.list_bindings(principal_id=user.id).items] == [binding.id]
    revoked = sdk.revoke_binding(binding.id, "moved teams")
    assert (revoked.revoke_reason, revoked.revoked_by is not None) == ("moved teams", True)
    assert sdk.list_bindings(principal_id=user.id).items == []
    history = sdk.list_bindings(principal_id=user.id, include_revoked=True)
    assert [b.id for b in history.items] == [binding.id]


def test_access_review(sdk: TrustplaneClient) -> None:
    user = sdk.create_user(unique("eve"))
    soon = datetime.now(UTC) + timedelta(days=3)
    binding = sdk.grant(user.id, "auditor", "quarterly audit", expires_at=soon)
    review = sdk.access_review(expiring_within_days=7, unused_for_days=30)
    assert (review.expiring_within_days, review.unused_for_days) == (7, 30)
    found = {f.binding.id: f for f in review.findings}
    assert found[binding.id].reasons == ["expiring"]
    assert found[binding.id].principal_name == user.name
    later = sdk.access_review(expiring_within_days=1)
    assert binding.id not in {f.binding.id for f in later.findings}


def test_audit_events_and_correlation_id(client: TestClient, tenant: TenantCtx) -> None:
    tagged = sdk_for(client, tenant.admin_token, correlation_id="sdk-test-42")
    env = tagged.create_environment("perf")
    page = tagged.audit_events(correlation_id="sdk-test-42")
    assert [(e.action, e.target.id) for e in page.items] == [("environment.create", env.id)]
    event = page.items[0]
    assert (event.actor.id, event.outcome, event.tenant) == (tenant.admin_id, "allowed", tenant.id)
    assert tagged.audit_events(action="environment.create", outcome="denied").items == []
    window = tagged.audit_events(since=event.time - timedelta(seconds=1), target_id=env.id)
    assert [e.id for e in window.items] == [event.id]
    assert (
        tagged.audit_events(until=event.time - timedelta(seconds=1), target_id=env.id).items == []
    )


def test_pagination_follows_cursors(sdk: TrustplaneClient) -> None:
    made = [sdk.create_user(unique("p")).id for _ in range(5)]
    first = sdk.list_principals(kind="user", limit=2)
    assert isinstance(first, Page)
    assert len(first.items) == 2
    assert first.next_cursor is not None
    second = sdk.list_principals(kind="user", limit=2, cursor=first.next_cursor)
    assert {p.id for p in first.items}.isdisjoint(p.id for p in second.items)
    every = [p.id for p in sdk.paginate(sdk.list_principals, kind="user", limit=2)]
    assert every[-5:] == made
    assert len(every) == len(set(every)) == 6  # the admin and the five users
    events = list(sdk.iter_audit_events(limit=3))
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert [e.id for e in events] == [e.id for e in sdk.audit_events(limit=500).items]


def test_results_keep_the_api_json(sdk: TrustplaneClient, tenant: TenantCtx) -> None:
    raw = sdk.whoami().api_json()
    assert raw["principal_id"] == tenant.admin_id
    assert isinstance(raw["grants"], list)
    page = sdk.list_environments().api_json()
    assert set(page) == {"items", "next_cursor"}


def test_unknown_fields_from_a_newer_server_are_ignored() -> None:
    me = WhoAmI.model_validate(
        {
            "principal_id": "prn_1",
            "name": "x",
            "kind": "user",
            "auth_method": "token",
            "tenant_id": None,
            "tenant_name": None,
            "grants": [{"role": "auditor", "environment_id": None, "binding_id": "b", "n": 1}],
            "permissions": [],
            "added_in_v2": {"anything": True},
        }
    )
    assert me.name == "x"
    assert me.api_json()["name"] == "x"  # built locally: a dump of the model


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTPLANE_URL", "https://tp.example.com/")
    monkeypatch.setenv("TRUSTPLANE_TOKEN", "tp_secret")
    with TrustplaneClient.from_env() as tp:
        assert (tp.base_url, tp.token) == ("https://tp.example.com", "tp_secret")
    monkeypatch.delenv("TRUSTPLANE_URL")
    monkeypatch.delenv("TRUSTPLANE_TOKEN")
    with TrustplaneClient.from_env() as tp:
        assert (tp.base_url, tp.token) == ("http://127.0.0.1:8000", None)
