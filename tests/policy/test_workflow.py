"""The governed release: sign-offs with separation of duties, denials that are evidence."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.factories import add_member
from tests.policy.kit import approved, promote, release_team, sign_off
from tests.registry.kit import API, act, build, digest, ok
from trustplane.audit import Origin
from trustplane.db.base import new_id
from trustplane.db.session import scope_to_tenant, unit_of_work
from trustplane.errors import PolicyDenied
from trustplane.identity.actor import Actor
from trustplane.policy.models import Decision
from trustplane.registry.release import deployment_decision


def _violations(body: dict[str, object]) -> list[str]:
    return [v["id"] for v in body["violations"]]  # type: ignore[attr-defined, index]


def test_high_risk_needs_two_distinct_approvers_then_promotes(
    client: TestClient, tenant: TenantCtx
) -> None:
    team, second = release_team(client, tenant)
    release = approved(client, team, second)
    denied = promote(client, release, intent="quarterly refresh", category="data-refresh")
    assert denied.status_code == 409, denied.text
    body = denied.json()
    assert body["type"].endswith("/policy-denied")
    assert _violations(body) == ["TP-SIGNOFF-MISSING"]
    assert body["missing_signoffs"][0]["role"] == "release-approver"
    assert "1 more" in body["missing_signoffs"][0]["message"]

    # the denial is evidence: the decision and both events are committed
    decision = ok(client.get(f"{API}/decisions/{body['decision_id']}", headers=team.risk.headers))
    assert decision["allowed"] is False and decision["checkpoint"] == "promote"
    assert decision["input"]["promotion"]["category"] == "data-refresh"
    assert decision["input"]["model"]["risk_tier"] == "high"
    events = ok(
        client.get(
            f"{API}/audit/events",
            params={"target_id": release.built.version_id, "outcome": "denied"},
            headers=team.risk.headers,
        )
    )["items"]
    assert [e["action"] for e in events] == ["policy.decision.promote", "model.promote"]

    # the same approver twice does not count twice
    again = ok(sign_off(client, team.approver, release.built.version_id), 201)
    assert again["decision"]["allowed"] is False
    signed = ok(sign_off(client, second, release.built.version_id), 201)
    assert signed["approval"]["role"] == "release-approver"
    assert signed["decision"]["checkpoint"] == "approve"
    assert signed["decision"]["allowed"] is True, signed["decision"]
    moved = ok(promote(client, release))
    assert moved["production_in"] == ["prod"]


def test_separation_of_duties_and_roles_are_enforced(client: TestClient, tenant: TenantCtx) -> None:
    team, second = release_team(client, tenant)
    release = approved(client, team, second)
    version = release.built.version_id
    # the trainer submitted and ran the training: even holding the role, no sign-off
    trainer_approver = add_member(client, tenant, "trainer", "release-approver")
    built = build(client, team)
    h = trainer_approver.headers
    etag = ok(act(client, h, built.version_id, "submit", built.etag))["etag"]
    etag = ok(act(client, team.validator.headers, built.version_id, "validate", etag))["etag"]
    refused = act(client, h, built.version_id, "approve", etag)
    assert refused.status_code == 403
    assert "separation of duties" in refused.json()["detail"]
    refused = sign_off(client, trainer_approver, built.version_id)
    assert refused.status_code == 403 and "submitted this version" in refused.json()["detail"]

    wrong_role = sign_off(client, team.deployer, version)
    assert wrong_role.status_code == 403
    assert "model.approve" in wrong_role.json()["detail"]
    staging_only = add_member(client, tenant, "release-approver", environment="staging")
    assert sign_off(client, staging_only, version).status_code == 403
    assert sign_off(client, staging_only, version, env="staging").status_code == 201

    stale = sign_off(client, second, version, artifact_digest=digest("another artifact"))
    assert stale.status_code == 409 and "read the version again" in stale.json()["detail"]
    assert sign_off(client, second, version, env="mars").status_code == 404
    assert sign_off(client, second, version, comment="").status_code == 422

    refusals = ok(
        client.get(
            f"{API}/audit/events",
            params={"target_id": version, "outcome": "denied"},
            headers=team.risk.headers,
        )
    )["items"]
    assert {e["action"] for e in refusals} == {"model.signoff.approve"}


def test_a_rejection_blocks_the_release(client: TestClient, tenant: TenantCtx) -> None:
    team, second = release_team(client, tenant)
    release = approved(client, team, second)
    ok(sign_off(client, second, release.built.version_id), 201)
    rejected = ok(
        sign_off(client, team.validator, release.built.version_id, decision="reject"), 201
    )
    assert "TP-SIGNOFF-REJECTED" in _violations(rejected["decision"])
    assert promote(client, release).status_code == 409


def test_eval_changes_nothing_and_the_gate_records(client: TestClient, tenant: TenantCtx) -> None:
    team, second = release_team(client, tenant)
    release = approved(client, team, second)
    query = {"model": release.built.model_name, "version": 1, "target": "prod"}
    h = team.trainer.headers
    version = release.built.version_id

    def count() -> int:
        page = ok(client.get(f"{API}/decisions", params={"model_version_id": version}, headers=h))
        return len(page["items"])

    before = count()
    explained = ok(client.post(f"{API}/policy/eval", json=query, headers=h))
    assert explained["allowed"] is False and explained["id"] is None
    assert count() == before
    gated = ok(client.post(f"{API}/policy/gate", json=query, headers=h))
    assert gated["id"] is not None and gated["event_id"] is not None
    assert count() == before + 1
    unknown = client.post(f"{API}/policy/gate", json={**query, "model": "nope"}, headers=h)
    assert unknown.status_code == 404


def test_replay_confirms_a_decision(client: TestClient, tenant: TenantCtx) -> None:
    team, second = release_team(client, tenant)
    release = approved(client, team, second)
    denied = promote(client, release).json()
    replayed = ok(
        client.post(f"{API}/decisions/{denied['decision_id']}/replay", headers=team.risk.headers)
    )
    assert replayed["same"] is True and replayed["differences"] == []
    assert replayed["replayed"]["allowed"] is False
    missing = client.post(f"{API}/decisions/dec_nope/replay", headers=team.risk.headers)
    assert missing.status_code == 404


def _system(tenant_id: str) -> Actor:
    return Actor.local_system(Origin("policy-test"), tenant_id)


def test_the_deploy_checkpoint_reads_runtime_facts(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    team, second = release_team(client, tenant)
    release = approved(client, team, second)
    version = release.built.version_id
    runtime = {"cluster": "prod-uk-1", "image": "sha256:" + "b" * 64, "traffic": 100}
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        with pytest.raises(PolicyDenied) as denied:
            deployment_decision(session, _system(tenant.id), version, "prod", runtime)
    assert denied.value.extra["missing_signoffs"][0]["role"] == "release-approver"
    ok(sign_off(client, second, version), 201)
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        decision = deployment_decision(session, _system(tenant.id), version, "prod", runtime)
    assert decision.allowed and decision.checkpoint == "deploy"
    stored = ok(client.get(f"{API}/decisions/{decision.id}", headers=team.risk.headers))
    assert stored["input"]["runtime"] == runtime


def test_replay_refuses_when_the_bundle_is_gone(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    team, second = release_team(client, tenant)
    release = approved(client, team, second)
    original = promote(client, release).json()["decision_id"]
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        row = session.get_one(Decision, original)
        orphan = Decision(
            **{c.key: getattr(row, c.key) for c in Decision.__table__.columns},
        )
        orphan.id = new_id("dec")
        orphan.bundle_digest = "sha256:" + "0" * 64
        session.add(orphan)
        orphan_id = orphan.id
    gone = client.post(f"{API}/decisions/{orphan_id}/replay", headers=team.risk.headers)
    assert gone.status_code == 409
    assert "no longer stored" in gone.json()["detail"]
