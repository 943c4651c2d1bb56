"""Bundles over the API: vetted before they are stored, activated with evidence."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TenantCtx
from tests.factories import Member, add_member
from tests.registry.kit import API, ok
from trustplane.policy.bundle import default

HEAD = "package trustplane.decision\nimport rego.v1\n"
OPEN = HEAD + "violations := set()\nallow := true\ntest_open if { allow }\n"


def _push(
    client: TestClient, member: Member | TenantCtx, files: dict[str, str], **extra: Any
) -> Any:
    headers = member.admin_headers if isinstance(member, TenantCtx) else member.headers
    return client.post(f"{API}/policy/bundles", json={"files": files, **extra}, headers=headers)


def test_the_shipped_bundle_governs_until_another_is_activated(
    client: TestClient, tenant: TenantCtx
) -> None:
    h = tenant.admin_headers
    active = ok(client.get(f"{API}/policy/bundles/active", headers=h))
    assert active["digest"] == default().digest and active["shipped"] and active["active"]
    assert "decision.rego" in active["files"]
    listed = ok(client.get(f"{API}/policy/bundles", headers=h))
    assert [b["digest"] for b in listed] == [default().digest]


def test_push_and_activate_records_old_and_new_digests(
    client: TestClient, tenant: TenantCtx
) -> None:
    pushed = ok(_push(client, tenant, {"open.rego": OPEN}, activate=True, reason="trial"), 201)
    new = pushed["activated"]["digest"]
    assert pushed["test_report"]["passed"] == 1
    assert pushed["activated"]["previous_digest"] == default().digest
    h = tenant.admin_headers
    assert ok(client.get(f"{API}/policy/bundles/active", headers=h))["digest"] == new
    events = ok(client.get(f"{API}/audit/events", params={"action": "policy.activate"}, headers=h))[
        "items"
    ]
    assert events[-1]["payload"] == {"old": default().digest, "new": new, "requested_by": None}
    back = ok(client.post(f"{API}/policy/bundles/{default().digest}/activate", json={}, headers=h))
    assert back["activated"]["previous_digest"] == new
    again = client.post(f"{API}/policy/bundles/{default().digest}/activate", json={}, headers=h)
    assert again.status_code == 409
    unknown = client.post(f"{API}/policy/bundles/sha256:{'0' * 64}/activate", json={}, headers=h)
    assert unknown.status_code == 404


def test_invalid_rego_is_refused_with_the_compilers_line(
    client: TestClient, tenant: TenantCtx
) -> None:
    refused = _push(client, tenant, {"rules/a.rego": HEAD + "\nallow if {\n  input.x ==\n}\n"})
    assert refused.status_code == 400
    assert "rules/a.rego:5:11: Invalid boolean operator" in refused.json()["detail"]
    bad_name = _push(client, tenant, {"../a.rego": OPEN})
    assert bad_name.status_code == 400
    listed = ok(client.get(f"{API}/policy/bundles", headers=tenant.admin_headers))
    assert len(listed) == 1  # nothing stored, nothing activated


def test_failing_tests_refuse_unless_forced_and_the_force_is_audited(
    client: TestClient, tenant: TenantCtx
) -> None:
    failing = {"f.rego": OPEN + "test_wrong if { not allow }\n"}
    refused = _push(client, tenant, failing, activate=True)
    assert refused.status_code == 409
    assert refused.json()["report"]["failed"] == 1
    h = tenant.admin_headers
    assert ok(client.get(f"{API}/policy/bundles/active", headers=h))["shipped"]
    forced = ok(_push(client, tenant, failing, force=True), 201)
    assert forced["activated"] is None
    stored = ok(client.get(f"{API}/policy/bundles", headers=h))
    assert [b["forced"] for b in stored if not b["shipped"]] == [True]
    events = ok(client.get(f"{API}/audit/events", params={"action": "policy.push"}, headers=h))
    assert events["items"][-1]["payload"]["tests_failed"] == ["trustplane.decision.test_wrong"]
    assert events["items"][-1]["reason"] == "pushed with failing tests (forced)"


def test_activation_can_need_a_second_person(client: TestClient, tenant: TenantCtx) -> None:
    strict = {
        "open.rego": OPEN,
        "data.json": '{"config": {"activation": {"second_approval": true}}}',
    }
    ok(_push(client, tenant, strict, activate=True), 201)
    author = add_member(client, tenant, "tenant-admin", "risk-officer")
    other = add_member(client, tenant, "risk-officer")
    asked = ok(_push(client, author, {"open.rego": OPEN + "# v2\n"}, activate=True), 201)
    request = asked["pending"]
    assert asked["activated"] is None and request["status"] == "pending"
    url = f"{API}/policy/activation-requests/{request['id']}/approve"
    assert client.post(url, headers=author.headers).status_code == 403
    assert (
        client.post(url, headers=add_member(client, tenant, "trainer").headers).status_code == 403
    )
    done = ok(client.post(url, headers=other.headers))
    assert done["activated"]["digest"] == request["digest"]
    assert done["activated"]["approved_by"] == other.id
    assert client.post(url, headers=other.headers).status_code == 409


def test_only_policy_writers_push(client: TestClient, tenant: TenantCtx) -> None:
    trainer = add_member(client, tenant, "trainer")
    assert _push(client, trainer, {"open.rego": OPEN}).status_code == 403
