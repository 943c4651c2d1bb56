"""Lifecycle transitions over the API: every transition, etags, completeness, history."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TenantCtx
from tests.factories import add_member, unique
from tests.registry.kit import API, Built, Team, act, build, digest, ok


def _to(client: TestClient, team: Team, built: Built, path: list[str]) -> str:
    """Walk ``built`` along ``path`` with the right member for each action; return the etag."""
    who = {
        "submit": team.trainer,
        "validate": team.validator,
        "approve": team.approver,
        "reject": team.validator,
        "promote": team.deployer,
        "deprecate": team.risk,
        "retire": team.risk,
        "suspend": team.risk,
        "reinstate": team.risk,
    }
    etag = built.etag
    for action in path:
        extra: dict[str, Any] = {"environment": "prod"} if action == "promote" else {}
        moved = ok(act(client, who[action].headers, built.version_id, action, etag, **extra))
        etag = str(moved["etag"])
    return etag


PATHS: dict[str, list[str]] = {
    "draft": [],
    "candidate": ["submit"],
    "validated": ["submit", "validate"],
    "approved": ["submit", "validate", "approve"],
    "production": ["submit", "validate", "approve", "promote"],
    "deprecated": ["submit", "validate", "approve", "promote", "deprecate"],
    "retired": ["submit", "validate", "approve", "deprecate", "retire"],
    "rejected": ["submit", "reject"],
    "suspended": ["submit", "validate", "approve", "suspend"],
}
ALLOWED: dict[str, list[str]] = {
    "draft": ["submit"],
    "candidate": ["validate", "reject"],
    "validated": ["approve", "reject"],
    "approved": ["promote", "deprecate", "suspend"],
    "production": ["promote", "deprecate", "suspend"],
    "deprecated": ["retire", "suspend"],
    "retired": [],
    "rejected": [],
    "suspended": ["reinstate"],
}
ACTIONS = [
    "submit",
    "validate",
    "approve",
    "reject",
    "promote",
    "deprecate",
    "retire",
    "suspend",
    "reinstate",
]


@pytest.mark.parametrize("where", list(PATHS))
def test_illegal_transitions_answer_409_listing_the_allowed_ones(
    client: TestClient, team: Team, where: str
) -> None:
    built = build(client, team)
    etag = _to(client, team, built, PATHS[where])
    for action in ACTIONS:
        if action in ALLOWED[where]:
            continue
        extra = {"environment": "staging"} if action == "promote" else {}
        refused = act(client, team.everything.headers, built.version_id, action, etag, **extra)
        assert refused.status_code == 409, (where, action, refused.text)
        body = refused.json()
        assert body["type"].endswith("/invalid-transition")
        assert body["allowed"] == ALLOWED[where], (where, action)
    # nothing moved: the etag is still current
    current = client.get(f"{API}/model-versions/{built.version_id}", headers=team.risk.headers)
    assert current.headers["etag"] == etag


def test_the_main_path_with_history_and_audit(client: TestClient, team: Team) -> None:
    built = build(client, team)
    states = []
    etag = built.etag
    steps = [
        ("submit", team.trainer, {}),
        ("validate", team.validator, {}),
        ("approve", team.approver, {}),
        ("promote", team.deployer, {"environment": "prod"}),
        ("promote", team.deployer, {"environment": "staging"}),
        ("deprecate", team.risk, {}),
        ("retire", team.risk, {}),
    ]
    for action, member, extra in steps:
        response = act(client, member.headers, built.version_id, action, etag, **extra)
        body = ok(response)
        assert response.headers["etag"] == body["etag"] != etag
        etag = body["etag"]
        states.append((body["state"], body["production_in"]))
    assert states == [
        ("candidate", []),
        ("candidate", []),
        ("approved", []),
        ("production", ["prod"]),
        ("production", ["prod", "staging"]),
        ("deprecated", ["prod", "staging"]),  # still serving until replaced or retired
        ("retired", []),
    ]
    history = ok(
        client.get(f"{API}/model-versions/{built.version_id}/history", headers=team.risk.headers)
    )["items"]
    assert [(h["action"], h["from_state"], h["to_state"], h["environment"]) for h in history] == [
        ("submit", "draft", "candidate", None),
        ("validate", "candidate", "candidate", None),
        ("approve", "candidate", "approved", None),
        ("promote", "approved", "production", "prod"),
        ("promote", "production", "production", "staging"),
        ("deprecate", "production", "deprecated", None),
        ("retire", "deprecated", "retired", None),
    ]
    assert history[2]["actor_id"] == team.approver.id
    assert history[2]["actor_name"] == team.approver.name
    assert history[3]["intent"] == "test promote"
    events = ok(
        client.get(
            f"{API}/audit/events",
            params={"target_id": built.version_id, "target_kind": "model_version"},
            headers=team.risk.headers,
        )
    )["items"]
    actions = [e["action"] for e in events]
    governed = {
        "submit": ["policy.decision.submit", "model.submit"],
        "approve": ["model.approve", "model.signoff.approve"],
        "promote": ["policy.decision.promote", "model.promote"],
    }
    expected = [governed.get(a, [f"model.{a}"]) for a, _, _ in steps]
    assert actions == ["model.version"] + [action for group in expected for action in group]
    assert {h["event_id"] for h in history} <= {e["id"] for e in events}
    assert (
        ok(client.get(f"{API}/models/{built.model_id}/production", headers=team.risk.headers)) == []
    )


def test_if_match_is_required_and_must_be_current(client: TestClient, team: Team) -> None:
    built = build(client, team)
    missing = act(client, team.trainer.headers, built.version_id, "submit", None)
    assert missing.status_code == 428
    assert missing.json()["type"].endswith("/precondition-required")
    star = act(client, team.trainer.headers, built.version_id, "submit", "*")
    assert star.status_code == 428
    first = ok(act(client, team.trainer.headers, built.version_id, "submit", built.etag))
    stale = act(client, team.validator.headers, built.version_id, "validate", built.etag)
    assert stale.status_code == 412
    assert stale.json()["etag"] == first["etag"]
    unquoted = first["etag"].strip('"')
    assert (
        act(client, team.validator.headers, built.version_id, "validate", unquoted).status_code
        == 200
    )


def test_an_incomplete_version_cannot_leave_draft(client: TestClient, team: Team) -> None:
    h = team.trainer.headers
    model = ok(
        client.post(f"{API}/models", json={"name": "bare", "risk_tier": "medium"}, headers=h), 201
    )
    version = ok(
        client.post(
            f"{API}/models/bare/versions", json={"artifact_digest": digest("bare")}, headers=h
        ),
        201,
    )
    refused = act(client, h, version["id"], "submit", version["etag"])
    assert refused.status_code == 409
    body = refused.json()
    assert body["type"].endswith("/incomplete-evidence")
    assert body["missing"] == [
        "owner",
        "intended_use",
        "producing_run",
        "code_commit",
        "dataset_versions",
        "env_fingerprint",
        "metrics",
    ]
    report = ok(client.get(f"{API}/model-versions/{version['id']}/completeness", headers=h))
    assert report["missing"] == body["missing"]
    assert report["present"] == ["risk_tier"]
    assert model["risk_tier"] == "medium"
    after = client.get(f"{API}/model-versions/{version['id']}", headers=h).json()
    assert (after["state"], after["etag"]) == ("draft", version["etag"])


@pytest.mark.parametrize(
    ("tier", "outcome"), [("low", 200), ("medium", 409), ("high", 409), ("critical", 409)]
)
def test_requirements_depend_on_the_risk_tier(
    client: TestClient, team: Team, tier: str, outcome: int
) -> None:
    """A run without an environment fingerprint is enough for low risk only."""
    dv = ok(
        client.post(f"{API}/datasets", json={"name": f"d-{tier}"}, headers=team.steward.headers),
        201,
    )
    built = build(client, team, model_extra={"risk_tier": tier, "out_of_scope_uses": ["credit"]})
    run = ok(
        client.post(
            f"{API}/runs", json={"commit_sha": "b" * 40, "inputs": []}, headers=team.trainer.headers
        ),
        201,
    )
    version = ok(
        client.post(
            f"{API}/models/{built.model_id}/versions",
            json={"artifact_digest": digest(tier), "run_id": run["id"]},
            headers=team.trainer.headers,
        ),
        201,
    )
    response = act(client, team.trainer.headers, version["id"], "submit", version["etag"])
    assert response.status_code == outcome, response.text
    if outcome == 409:
        assert {"dataset_versions", "env_fingerprint", "metrics"} <= set(response.json()["missing"])
    assert dv["id"].startswith("ds_")


def test_a_tenant_tightens_the_low_tier(client: TestClient, team: Team) -> None:
    built = build(client, team, model_extra={"risk_tier": "low"})
    rules = ok(client.get(f"{API}/completeness-rules", headers=team.trainer.headers))
    assert {r["risk_tier"]: r["source"] for r in rules} == dict.fromkeys(
        ["low", "medium", "high", "critical"], "default"
    )
    admin = team.tenant.admin_headers
    body = {"required": ["owner", "evaluations"]}
    assert (
        client.put(
            f"{API}/completeness-rules/low", json=body, headers=team.trainer.headers
        ).status_code
        == 403
    )
    set_rule = ok(client.put(f"{API}/completeness-rules/low", json=body, headers=admin))
    assert set_rule == {
        "risk_tier": "low",
        "required": ["owner", "evaluations"],
        "source": "tenant",
    }
    bad = client.put(f"{API}/completeness-rules/low", json={"required": ["vibes"]}, headers=admin)
    assert bad.status_code == 400
    assert "vibes" in bad.json()["detail"]
    refused = act(client, team.trainer.headers, built.version_id, "submit", built.etag)
    assert refused.status_code == 409
    assert refused.json()["missing"] == ["evaluations"]


def test_permissions_per_action_and_denials_are_recorded(client: TestClient, team: Team) -> None:
    built = build(client, team)
    etag = _to(client, team, built, ["submit", "validate"])
    denied = act(client, team.trainer.headers, built.version_id, "approve", etag)
    assert denied.status_code == 403
    events = ok(
        client.get(
            f"{API}/audit/events",
            params={"outcome": "denied", "actor": team.trainer.id},
            headers=team.risk.headers,
        )
    )["items"]
    assert [e["action"] for e in events] == ["model.approve"]
    approved = ok(act(client, team.approver.headers, built.version_id, "approve", etag))
    assert approved["state"] == "approved"


def test_production_is_per_environment_and_replacing_is_recorded(
    client: TestClient, team: Team
) -> None:
    first = build(client, team)
    e1 = _to(client, team, first, ["submit", "validate", "approve"])
    e1 = ok(
        act(client, team.deployer.headers, first.version_id, "promote", e1, environment="prod")
    )["etag"]
    second = ok(
        client.post(
            f"{API}/models/{first.model_id}/versions",
            json={
                "artifact_digest": digest("second"),
                "run_id": first.run_id,
                "metrics": {"auc": 1},
            },
            headers=team.trainer.headers,
        ),
        201,
    )
    assert second["version"] == 2
    b2 = Built(first.model_id, first.model_name, second["id"], second["etag"], first.run_id, "")
    e2 = _to(client, team, b2, ["submit", "validate", "approve"])
    e2 = ok(
        act(client, team.deployer.headers, b2.version_id, "promote", e2, environment="staging")
    )["etag"]
    pointers = ok(
        client.get(f"{API}/models/{first.model_name}/production", headers=team.risk.headers)
    )
    assert [(p["environment"], p["version"]) for p in pointers] == [("prod", 1), ("staging", 2)]
    wrong = act(
        client,
        team.deployer.headers,
        b2.version_id,
        "promote",
        e2,
        environment="prod",
        replaces="none",
    )
    assert wrong.status_code == 412
    ok(
        act(
            client,
            team.deployer.headers,
            b2.version_id,
            "promote",
            e2,
            environment="prod",
            replaces=first.version_id,
        )
    )
    v1 = ok(client.get(f"{API}/model-versions/{first.version_id}", headers=team.risk.headers))
    assert (v1["state"], v1["production_in"]) == ("approved", [])
    assert v1["etag"] != e1  # its state changed, so its etag did
    history = ok(client.get(f"{API}/models/{first.model_id}/history", headers=team.risk.headers))[
        "items"
    ]
    replaced = [h for h in history if h["action"] == "replaced"]
    assert len(replaced) == 1
    assert replaced[0]["model_version_id"] == first.version_id
    assert replaced[0]["environment"] == "prod"
    assert "by version 2" in replaced[0]["intent"]


def test_suspension_ends_pointers_and_reinstatement_does_not_restore_them(
    client: TestClient, team: Team
) -> None:
    built = build(client, team)
    etag = _to(client, team, built, ["submit", "validate", "approve", "promote"])
    suspended = ok(act(client, team.risk.headers, built.version_id, "suspend", etag))
    assert (suspended["state"], suspended["production_in"]) == ("suspended", [])
    back = ok(act(client, team.risk.headers, built.version_id, "reinstate", suspended["etag"]))
    assert (back["state"], back["production_in"]) == ("approved", [])


def test_environment_rules(client: TestClient, team: Team) -> None:
    built = build(client, team)
    etag = _to(client, team, built, ["submit", "validate", "approve"])
    no_env = act(client, team.deployer.headers, built.version_id, "promote", etag)
    assert no_env.status_code == 400
    unknown = act(
        client, team.deployer.headers, built.version_id, "promote", etag, environment="mars"
    )
    assert unknown.status_code == 404
    stray = act(client, team.risk.headers, built.version_id, "deprecate", etag, environment="prod")
    assert stray.status_code == 400


def test_unknown_and_foreign_versions_are_404(
    client: TestClient, team: Team, other_tenant: TenantCtx
) -> None:
    built = build(client, team)
    assert act(client, team.trainer.headers, "mv_nope", "submit", '"x"').status_code == 404
    other = add_member(client, other_tenant, "trainer")
    foreign = act(client, other.headers, built.version_id, "submit", built.etag)
    assert foreign.status_code == 404
    assert (
        client.get(f"{API}/model-versions/{built.version_id}", headers=other.headers).status_code
        == 404
    )


def test_refused_transitions_leave_a_committed_denial_event(client: TestClient, team: Team) -> None:
    """A refusal is an outcome, not a crash: the change rolls back, the evidence of it stays."""
    h = team.everything.headers
    built = build(client, team)
    illegal = act(client, h, built.version_id, "retire", built.etag)
    assert illegal.status_code == 409
    bare = ok(client.post(f"{API}/models", json={"name": unique("bare")}, headers=h), 201)
    version = ok(
        client.post(
            f"{API}/models/{bare['id']}/versions",
            json={"artifact_digest": digest(unique("bare"))},
            headers=h,
        ),
        201,
    )
    incomplete = act(client, h, version["id"], "submit", version["etag"])
    assert incomplete.status_code == 409
    events = ok(
        client.get(
            f"{API}/audit/events",
            params={"outcome": "denied", "actor": team.everything.id},
            headers=team.risk.headers,
        )
    )["items"]
    denials = {(e["action"], e["target"]["id"]): e for e in events}
    assert set(denials) == {
        ("model.retire", built.version_id),
        ("model.submit", version["id"]),
    }
    assert denials[("model.retire", built.version_id)]["reason"] == illegal.json()["detail"]
    assert denials[("model.submit", version["id"])]["reason"] == incomplete.json()["detail"]
    still = client.get(f"{API}/model-versions/{built.version_id}", headers=h)
    assert (still.json()["state"], still.headers["etag"]) == ("draft", built.etag)


def test_a_deployer_bound_to_one_environment_promotes_there_only(
    client: TestClient, team: Team
) -> None:
    built = build(client, team)
    etag = _to(client, team, built, ["submit", "validate", "approve"])
    prod_only = add_member(client, team.tenant, "deployer", environment="prod")
    elsewhere = act(
        client, prod_only.headers, built.version_id, "promote", etag, environment="staging"
    )
    assert elsewhere.status_code == 403, elsewhere.text
    assert "in environment 'staging'" in elsewhere.json()["detail"]
    promoted = act(client, prod_only.headers, built.version_id, "promote", etag, environment="prod")
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["state"] == "production"
    denied = ok(
        client.get(
            f"{API}/audit/events",
            params={"outcome": "denied", "actor": prod_only.id},
            headers=team.risk.headers,
        )
    )["items"]
    assert [(e["action"], e["environment"]) for e in denied] == [("model.promote", "staging")]
    # a role bound to one environment still opens no other action's door
    refused = act(client, prod_only.headers, built.version_id, "deprecate", promoted.json()["etag"])
    assert refused.status_code == 403
