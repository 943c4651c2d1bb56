"""Waivers: explicit, time-bound, approved by someone else; expiry needs no sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.factories import Member, add_member
from tests.policy.kit import Release, approved, promote, release_team, sign_off
from tests.registry.kit import API, ok
from trustplane.audit import Origin
from trustplane.db.session import scope_to_tenant, unit_of_work
from trustplane.identity.actor import Actor
from trustplane.identity.models import Environment
from trustplane.registry import release as release_service
from trustplane.registry import waiving
from trustplane.registry.models import ModelVersion

GAP_RULE = "TP-FAIRNESS-GAP"


def _ask(client: TestClient, member: Member, version_id: str, **extra: Any) -> Any:
    body = {
        "model_version_id": version_id,
        "environment": "prod",
        "rule_ids": [GAP_RULE],
        "reason": "the gap comes from a small group; retraining is scheduled",
        "compensating_control": "monthly manual review of outcomes by group",
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        **extra,
    }
    return client.post(f"{API}/waivers", json=body, headers=member.headers)


def _unfair(client: TestClient, tenant: TenantCtx) -> Release:
    """A signed-off high-risk version whose fairness gap (0.3) breaks the policy."""
    team, second = release_team(client, tenant)
    release = approved(client, team, second, gap=0.3)
    ok(sign_off(client, second, release.built.version_id), 201)
    return release


def _waived(client: TestClient, release: Release) -> str:
    team = release.team
    waiver = ok(_ask(client, team.trainer, release.built.version_id), 201)
    assert waiver["status"] == "pending" and waiver["valid"] is False
    body = {"comment": "compensating control is adequate"}
    ok(client.post(f"{API}/waivers/{waiver['id']}/approve", json=body, headers=team.risk.headers))
    return str(waiver["id"])


def test_a_valid_waiver_lets_the_release_through(client: TestClient, tenant: TenantCtx) -> None:
    release = _unfair(client, tenant)
    denied = promote(client, release)
    assert denied.status_code == 409
    assert [v["id"] for v in denied.json()["violations"]] == [GAP_RULE]
    waiver_id = _waived(client, release)
    moved = promote(client, release, intent="business request with a waiver")
    assert moved.status_code == 200, moved.text
    decisions = ok(
        client.get(
            f"{API}/decisions",
            params={"model_version_id": release.built.version_id, "checkpoint": "promote"},
            headers=release.team.risk.headers,
        )
    )["items"]
    allowed = [d for d in decisions if d["allowed"]]
    assert [(w["id"], w["waiver_id"]) for w in allowed[-1]["waived"]] == [(GAP_RULE, waiver_id)]


def test_bad_waivers_are_refused(client: TestClient, tenant: TenantCtx) -> None:
    release = _unfair(client, tenant)
    team, version = release.team, release.built.version_id
    later = datetime.now(UTC) + timedelta(days=91)
    beyond = _ask(client, team.trainer, version, expires_at=later.isoformat())
    assert beyond.status_code == 400 and "at most 90 days" in beyond.json()["detail"]
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert _ask(client, team.trainer, version, expires_at=past).status_code == 400
    assert _ask(client, team.trainer, version, expires_at=None).status_code == 422
    assert _ask(client, team.trainer, version, rule_ids=[]).status_code == 422
    review_late = (datetime.now(UTC) + timedelta(days=40)).isoformat()
    assert _ask(client, team.trainer, version, review_at=review_late).status_code == 400
    assert _ask(client, team.approver, version).status_code == 403  # no waiver.request

    # the requester cannot approve their own waiver, even holding the role
    both = add_member(client, tenant, "trainer", "risk-officer")
    own = ok(_ask(client, both, version), 201)
    body = {"comment": "looks fine to me"}
    refused = client.post(f"{API}/waivers/{own['id']}/approve", json=body, headers=both.headers)
    assert refused.status_code == 403
    assert "requested it" in refused.json()["detail"]
    rejected = client.post(
        f"{API}/waivers/{own['id']}/reject", json=body, headers=team.risk.headers
    )
    assert ok(rejected)["status"] == "rejected"
    again = client.post(f"{API}/waivers/{own['id']}/approve", json=body, headers=team.risk.headers)
    assert again.status_code == 409
    assert promote(client, release).status_code == 409


def _actor(tenant_id: str) -> Actor:
    return Actor.local_system(Origin("waiver-test"), tenant_id)


def test_expiry_returns_the_version_to_the_gate_and_flags_production(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    release = _unfair(client, tenant)
    waiver_id = _waived(client, release)
    assert promote(client, release).status_code == 200
    waiver = ok(client.get(f"{API}/waivers/{waiver_id}", headers=release.team.risk.headers))
    after = datetime.fromisoformat(waiver["expires_at"]) + timedelta(seconds=1)

    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        version = session.get_one(ModelVersion, release.built.version_id)
        prod = session.query(Environment).filter_by(tenant_id=tenant.id, name="prod").one()
        # before any sweep, the clock alone ends the waiver's effect
        later = release_service.explain(
            session, _actor(tenant.id), version, prod, record=False, now=after
        )
        assert not later.allowed and [v.id for v in later.violations] == [GAP_RULE]
        before = release_service.explain(
            session,
            _actor(tenant.id),
            version,
            prod,
            record=False,
            now=after - timedelta(minutes=1),
        )
        assert before.allowed and [v.waiver_id for v in before.waived] == [waiver_id]

    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        swept = waiving.sweep(session, _actor(tenant.id), tenant.id, after)
    assert [w.id for w in swept.expired] == [waiver_id]
    assert swept.flagged_for_review == [release.built.version_id]

    h = release.team.risk.headers
    shown = ok(client.get(f"{API}/waivers/{waiver_id}", headers=h))
    assert shown["status"] == "expired" and shown["review_required"] is True
    flagged = ok(client.get(f"{API}/waivers", params={"review_required": True}, headers=h))
    assert [w["id"] for w in flagged["items"]] == [waiver_id]
    events = ok(
        client.get(
            f"{API}/audit/events",
            params={"target_id": release.built.version_id, "action": "model.review_required"},
            headers=h,
        )
    )["items"]
    assert len(events) == 1
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        assert waiving.sweep(session, _actor(tenant.id), tenant.id, after).expired == []


def test_the_periodic_sweep_covers_every_tenant(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    release = _unfair(client, tenant)
    waiver_id = _waived(client, release)
    far = datetime.now(UTC) + timedelta(days=31)
    assert waiving.sweep_all(session_factory, far) >= 1
    shown = ok(client.get(f"{API}/waivers/{waiver_id}", headers=release.team.risk.headers))
    assert shown["status"] == "expired" and shown["review_required"] is False  # never promoted


def test_often_waived_rules_are_codification_candidates(
    client: TestClient, tenant: TenantCtx
) -> None:
    release = _unfair(client, tenant)
    for _ in range(4):
        _waived(client, release)
    report = ok(client.get(f"{API}/waivers/report", headers=release.team.risk.headers))
    assert report["threshold"] == 3 and report["window_days"] == 90
    assert [(c["rule_id"], c["waivers"]) for c in report["candidates"]] == [(GAP_RULE, 4)]
