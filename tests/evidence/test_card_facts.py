"""Model cards show exactly what was recorded: a full governed release, and a bare version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.backends import postgres_database, sqlite_database
from tests.conftest import TenantCtx
from tests.factories import add_member, bootstrap_tenant
from tests.policy.kit import Release, promote, release_team, sign_off
from tests.registry.kit import (
    API,
    Built,
    act,
    approve_dataset,
    dataset_version,
    digest,
    model,
    ok,
    run,
    unique,
)
from trustplane.audit import Origin
from trustplane.db.migrate import alembic_config, upgrade
from trustplane.db.session import make_engine, scope_to_tenant, unit_of_work
from trustplane.errors import InvalidInput, NotFound
from trustplane.evidence.card import render_markdown
from trustplane.evidence.cards import Card, card_facts, version_card
from trustplane.identity.actor import Actor
from trustplane.registry.models import Model, ModelVersion

INTENDED = "score consumer loan applications for affordability"
LIMITATIONS = ["not validated for applicants under 21", "trained on UK applications only"]
PARAMETERS = {"learning_rate": 0.05, "max_depth": 6, "objective": "binary"}
COMMIT = "3f2a9c1e" * 5
EVALUATIONS = [
    {"name": "auc-holdout", "passed": True, "value": 0.9, "threshold": 0.75, "metric": "auc"},
    {"name": "tpr-female", "passed": True, "value": 0.62, "metric": "tpr", "group": "f"},
    {"name": "tpr-male", "passed": True, "value": 0.91, "metric": "tpr", "group": "m"},
]
WAIVER_REASON = "the gap comes from a small group; retraining is scheduled"
CONTROL = "monthly manual review of outcomes by group"


@dataclass
class Recorded:
    """A high-risk version taken through a whole release, and what was recorded on the way."""

    release: Release
    dataset_version_id: str
    waiver_id: str
    promote_transition_id: str

    @property
    def version_id(self) -> str:
        return self.release.built.version_id


def record_release(client: TestClient, tenant: TenantCtx) -> Recorded:
    """Registered, trained on an approved dataset, evaluated by group, submitted, validated,
    approved, signed off, denied at promotion for its fairness gap, waived, promoted."""
    team, second = release_team(client, tenant)
    dv = dataset_version(client, team.steward.headers, sensitivity="confidential", region="uk")
    approve_dataset(client, team.steward.headers, dv)
    h = team.trainer.headers
    run_id = run(client, h, [dv], parameters=PARAMETERS, commit_sha=COMMIT)
    m = model(
        client,
        h,
        risk_tier="high",
        intended_use=INTENDED,
        out_of_scope_uses=["employment screening"],
        limitations=LIMITATIONS,
        business_unit="retail-lending",
        regulatory_tags=["consumer-duty"],
    )
    body = {
        "artifact_digest": digest(unique("artifact")),
        "run_id": run_id,
        "metrics": {"auc": 0.9},
        "evaluations": EVALUATIONS,
    }
    mv = ok(client.post(f"{API}/models/{m['id']}/versions", json=body, headers=h), 201)
    etag = mv["etag"]
    for action, member in (
        ("submit", team.trainer),
        ("validate", team.validator),
        ("approve", team.approver),
    ):
        etag = ok(act(client, member.headers, mv["id"], action, etag))["etag"]
    built = Built(m["id"], m["name"], mv["id"], etag, run_id, dv)
    release = Release(team, second, built, etag)
    ok(sign_off(client, second, mv["id"]), 201)
    assert promote(client, release).status_code == 409  # the fairness gap of 0.29
    waiver = {
        "model_version_id": mv["id"],
        "environment": "prod",
        "rule_ids": ["TP-FAIRNESS-GAP"],
        "reason": WAIVER_REASON,
        "compensating_control": CONTROL,
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
    }
    waiver_id = ok(client.post(f"{API}/waivers", json=waiver, headers=h), 201)["id"]
    decide = {"comment": "compensating control is adequate"}
    ok(client.post(f"{API}/waivers/{waiver_id}/approve", json=decide, headers=team.risk.headers))
    ok(promote(client, release, intent="Q4 release with the fairness waiver"))
    listed = ok(client.get(f"{API}/releases", params={"model": m["id"]}, headers=h))["items"]
    return Recorded(release, dv, waiver_id, listed[0]["id"])


@pytest.fixture
def recorded(client: TestClient, tenant: TenantCtx) -> Recorded:
    return record_release(client, tenant)


def _actor(tenant: TenantCtx) -> Actor:
    return Actor.local_system(Origin("model-card-test"), tenant.id)


def _card(factory: sessionmaker[Session], tenant: TenantCtx, ref: str) -> Card:
    with unit_of_work(factory) as session:
        scope_to_tenant(session, tenant.id)
        return version_card(session, _actor(tenant), ref)


def test_card_facts_are_the_recorded_values(
    recorded: Recorded, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    team = recorded.release.team
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    later = at + timedelta(days=60)  # after the waiver's expiry
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        version = session.get_one(ModelVersion, recorded.version_id)
        model_row = session.get_one(Model, version.model_id)
        facts = card_facts(session, version, model_row, now=at)
        afterwards = card_facts(session, version, model_row, now=later)
    assert facts["generated_at"] == at.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    assert afterwards["waivers"][0]["valid_at_generation"] is False
    assert "| approved (expired at generation) |" in render_markdown(afterwards)
    assert {k: v for k, v in afterwards.items() if k not in ("generated_at", "waivers")} == {
        k: v for k, v in facts.items() if k not in ("generated_at", "waivers")
    }
    m, v, t = facts["model"], facts["version"], facts["training"]
    assert (m["intended_use"], m["limitations"]) == (INTENDED, LIMITATIONS)
    assert m["out_of_scope_uses"] == ["employment screening"]
    assert (m["risk_tier"], m["business_unit"], m["regulatory_tags"]) == (
        "high",
        "retail-lending",
        ["consumer-duty"],
    )
    assert (m["owner"], m["description"]) == ("credit-team", "")
    assert (v["state"], v["production_in"], v["artifact_uri"]) == ("production", ["prod"], None)
    assert v["validated_by"] == {"id": team.validator.id, "name": team.validator.name}
    assert (t["run_id"], t["commit_sha"], t["parameters"]) == (
        recorded.release.built.run_id,
        COMMIT,
        PARAMETERS,
    )
    assert t["by"] == {"id": team.trainer.id, "name": team.trainer.name}
    assert (t["started_at"], t["ended_at"], t["metrics"]) == (None, None, {"auc": 0.91})
    [dataset] = facts["data"]["datasets"]
    assert dataset["id"] == recorded.dataset_version_id
    assert (dataset["sensitivity"], dataset["region"], dataset["approval_status"]) == (
        "confidential",
        "uk",
        "approved",
    )
    assert (dataset["flagged_for_removal"], facts["data"]["features"]) == (False, [])
    assert facts["metrics"] == {"auc": 0.9}
    assert facts["evaluations"] == [{"group": None, **EVALUATIONS[0]}] + [
        {"threshold": None, **e} for e in EVALUATIONS[1:]
    ]
    [fairness] = facts["fairness"]
    assert fairness["metric"] == "tpr"
    assert [(g["group"], g["value"]) for g in fairness["groups"]] == [("f", 0.62), ("m", 0.91)]
    assert fairness["largest_gap"] == 0.29  # in decimal, not 0.91 - 0.62 = 0.29000000000000004
    assert (fairness["highest"], fairness["lowest"]) == (
        {"group": "m", "value": 0.91},
        {"group": "f", "value": 0.62},
    )
    promotions = [d for d in facts["decisions"] if d["checkpoint"] == "promote"]
    assert [(d["allowed"], [x["id"] for x in d["violations"]]) for d in promotions] == [
        (False, ["TP-FAIRNESS-GAP"]),
        (True, []),
    ]
    assert promotions[1]["waived"] == [{"id": "TP-FAIRNESS-GAP", "waiver_id": recorded.waiver_id}]
    assert {d["checkpoint"] for d in facts["decisions"]} == {"submit", "approve", "promote"}
    assert [(a["by"]["id"], a["environment"], a["role"]) for a in facts["approvals"]] == [
        (team.approver.id, None, "release-approver"),
        (recorded.release.second.id, "prod", "release-approver"),
    ]
    assert all(a["for_current_artifact"] for a in facts["approvals"])
    [waiver] = facts["waivers"]
    assert (waiver["id"], waiver["rule_ids"], waiver["environment"]) == (
        recorded.waiver_id,
        ["TP-FAIRNESS-GAP"],
        "prod",
    )
    assert (waiver["reason"], waiver["compensating_control"]) == (WAIVER_REASON, CONTROL)
    assert (waiver["status"], waiver["valid_at_generation"]) == ("approved", True)
    assert waiver["decided_by"] == {"id": team.risk.id, "name": team.risk.name}
    [released] = facts["releases"]
    assert (released["id"], released["environment"], released["current"]) == (
        recorded.promote_transition_id,
        "prod",
        True,
    )
    assert released["promoted_by"] == {"id": team.deployer.id, "name": team.deployer.name}
    assert released["intent"] == "Q4 release with the fairness waiver"


def test_the_card_renders_the_recorded_values(
    recorded: Recorded, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    team = recorded.release.team
    card = _card(session_factory, tenant, f"{recorded.release.built.model_name}@1")
    assert card.facts["version"]["id"] == recorded.version_id
    md, html = card.markdown, card.html
    for line in (
        "| risk tier | high |",
        "| regulatory tags | consumer-duty |",
        "| model description | not recorded |",
        "| artifact URI | not recorded |",
        f"| commit | `{COMMIT}` |",
        "| started | not recorded |",
        "| learning\\_rate | 0.05 |",
        "| max\\_depth | 6 |",
        "- employment screening",
        *(f"- {limitation}" for limitation in LIMITATIONS),
        "| f | tpr-female | 0.62 | not recorded | yes |",
        "Largest gap: 0.29 (highest m at 0.91, lowest f at 0.62).",
        f"| trained by | {team.trainer.name} (`{team.trainer.id}`) |",
        "### Feature versions\n\nnot recorded",
    ):
        assert line in md, line
    assert f"\n{INTENDED}\n" in md
    assert "TP-FAIRNESS-GAP" in md and recorded.waiver_id in md and CONTROL in md
    assert "now (in production)" in md
    assert f"<li>{LIMITATIONS[0]}</li>" in html and f'<p class="entered">{INTENDED}</p>' in html
    assert "Largest gap: <strong>0.29</strong>" in html
    assert not any(x in html for x in ("<script", "<link", "src=", "href=", "url("))  # no assets


def test_a_bare_version_shows_not_recorded(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    h = add_member(client, tenant, "trainer").headers
    name = unique("bare")
    ok(client.post(f"{API}/models", json={"name": name}, headers=h), 201)
    body = {"artifact_digest": digest(name)}
    mv = ok(client.post(f"{API}/models/{name}/versions", json=body, headers=h), 201)
    card = _card(session_factory, tenant, mv["id"])
    f = card.facts
    assert (f["model"]["intended_use"], f["model"]["limitations"], f["training"]) == (
        None,
        [],
        None,
    )
    assert f["data"] == {"datasets": [], "features": []}
    assert (f["evaluations"], f["fairness"], f["releases"]) == ([], [], [])
    sections = card.markdown.split("\n## ")
    for title in (
        "Intended use",
        "Out-of-scope uses",
        "Limitations",
        "Training",
        "Metrics",
        "Evaluations",
    ):
        [section] = [s for s in sections if s.startswith(title + "\n")]
        assert "not recorded" in section, section
    for absent in (
        "| owner | not recorded |",
        "| risk tier | not recorded |",
        "| in production in | no environment now |",
        "None recorded.",
    ):
        assert absent in card.markdown
    assert "Never promoted to production in any environment." in card.markdown
    assert "No evaluation by group was recorded." in card.markdown
    assert card.html.count('class="nr"') >= 10


def test_a_script_in_the_intended_use_stays_text(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    h = add_member(client, tenant, "trainer").headers
    hostile = "<script>alert('x')</script> | # not a heading\n# nor this"
    body = {"name": unique("xss"), "intended_use": hostile, "limitations": ["a | b", "<b>x</b>"]}
    created = ok(client.post(f"{API}/models", json=body, headers=h), 201)
    body = {"artifact_digest": digest(created["id"])}
    mv = ok(client.post(f"{API}/models/{created['id']}/versions", json=body, headers=h), 201)
    card = _card(session_factory, tenant, mv["id"])
    assert "<script>" not in card.html and "<b>x</b>" not in card.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in card.html
    assert "<script>" not in card.markdown
    assert (
        "\n\\<script\\>alert('x')\\</script\\> \\| # not a heading\n\\# nor this\n" in card.markdown
    )
    assert "- a \\| b" in card.markdown and "- \\<b\\>x\\</b\\>" in card.markdown


def test_versions_of_another_tenant_and_bad_references_are_refused(
    recorded: Recorded, session_factory: sessionmaker[Session]
) -> None:
    other = bootstrap_tenant(session_factory)
    name = recorded.release.built.model_name
    for ref in (recorded.version_id, f"{name}@1", f"{recorded.release.built.model_id}@1"):
        with pytest.raises(NotFound):
            _card(session_factory, other, ref)
    tenant = recorded.release.team.tenant
    with pytest.raises(NotFound, match="has no version 2"):
        _card(session_factory, tenant, f"{name}@2")
    for bad in (name, f"{name}@", f"{name}@0", f"{name}@x", "@1"):
        with pytest.raises(InvalidInput, match="MODEL@N"):
            _card(session_factory, tenant, bad)


def test_registering_a_model_records_what_was_entered(
    client: TestClient, tenant: TenantCtx
) -> None:
    h = add_member(client, tenant, "trainer").headers
    entered: dict[str, Any] = {
        "description": "affordability scorecard",
        "owner": "credit-team",
        "intended_use": INTENDED,
        "out_of_scope_uses": ["employment screening"],
        "limitations": LIMITATIONS,
        "risk_tier": "high",
        "business_unit": "retail-lending",
        "regulatory_tags": ["consumer-duty"],
    }
    created = ok(
        client.post(f"{API}/models", json={"name": unique("m"), **entered}, headers=h), 201
    )
    assert created["limitations"] == LIMITATIONS
    assert ok(client.get(f"{API}/models/{created['id']}", headers=h))["limitations"] == LIMITATIONS
    params = {"action": "model.register", "target_id": created["id"]}
    audit = tenant.admin_headers
    [event] = ok(client.get(f"{API}/audit/events", params=params, headers=audit))["items"]
    assert event["payload"] == entered
    too_long = {"name": unique("m"), "limitations": ["x" * 2001]}
    assert client.post(f"{API}/models", json=too_long, headers=h).status_code == 422


def _fresh(backend: str, folder: Path) -> AbstractContextManager[str]:
    return postgres_database() if backend == "postgresql" else sqlite_database(folder)


def test_the_migration_adds_limitations_to_existing_models(backend: str, tmp_path: Path) -> None:
    with _fresh(backend, tmp_path) as url:
        upgrade(url, "0005_policy")
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                _as_system(conn, backend)
                conn.execute(
                    text(
                        "INSERT INTO tenants (id, name, display_name, created_at, created_by)"
                        " VALUES ('ten_a', 'a', 'a', '2026-01-01T00:00:00Z', 'test')"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO models (id, tenant_id, name, description, out_of_scope_uses,"
                        " regulatory_tags, latest_version, created_at, created_by) VALUES"
                        " ('mdl_a', 'ten_a', 'old', '', '[]', '[]', 0,"
                        " '2026-01-01T00:00:00Z', 'test')"
                    )
                )
            assert upgrade(url) is not None
            assert list(_limitations(engine, backend)) == [[]]
            command.downgrade(alembic_config(url), "0005_policy")
            with engine.connect() as conn:
                _as_system(conn, backend)
                columns = conn.execute(text("SELECT * FROM models")).keys()
            assert "limitations" not in columns
        finally:
            engine.dispose()


def _as_system(conn: Any, backend: str) -> None:
    if backend == "postgresql":  # row-level security: the migration test works across tenants
        conn.execute(text("SELECT set_config('trustplane.system', 'on', true)"))


def _limitations(engine: Any, backend: str) -> Iterator[Any]:
    with engine.connect() as conn:
        _as_system(conn, backend)
        for (value,) in conn.execute(text("SELECT limitations FROM models")):
            yield value if isinstance(value, list) else json.loads(value)
