"""Sign-offs, waivers and a governed promotion, through the CLI, under a small test bundle."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.cli.conftest import Cli
from tests.cli.policy_kit import RELEASE, write_bundle
from tests.conftest import TenantCtx
from tests.registry.kit import Built, Team, build, make_team


@pytest.fixture
def team(client: TestClient, tenant: TenantCtx) -> Team:
    return make_team(client, tenant)


@pytest.fixture
def candidate(cli: Cli, client: TestClient, team: Team, tmp_path: Path) -> Built:
    """Version 1 of a model, submitted (a candidate), with the release bundle active."""
    cli.json("policy", "push", str(write_bundle(tmp_path / "release", RELEASE)), "--activate")
    built = build(client, team)
    cli.ok("model", "submit", built.model_name, "1", "--intent", "ready", token=team.trainer.token)
    return built


def test_sign_off_binds_the_artifact_and_shows_what_is_missing(
    cli: Cli, team: Team, candidate: Built
) -> None:
    name = candidate.model_name
    target = ("--model", name, "--version", "1", "--target", "prod")
    before = cli("policy", "eval", *target, token=team.risk.token)
    assert before.exit_code == 1
    for word in ("Missing sign-offs", "release-approver", "TP-SIGNOFF-MISSING", "TP-FAIRNESS-GAP"):
        assert word in before.stdout

    assert "Sign-offs" in cli.ok("model", "approvals", name, "1", token=team.risk.token)
    out = cli.ok(
        "model", "sign-off", name, "1", "--env", "prod", "--comment", "backtest reviewed",
        token=team.approver.token,
    )  # fmt: skip
    assert "approve recorded" in out and "release-approver" in out
    assert "TP-FAIRNESS-GAP" in out and "Missing sign-offs" not in out  # the policy's view now
    given = cli.json("model", "approvals", name, "1", token=team.risk.token)
    assert [(a["environment"], a["decision"]) for a in given] == [("prod", "approve")]
    version = cli.json("model", "version", "show", name, "1", token=team.risk.token)
    assert given[0]["artifact_digest"] == version["artifact_digest"]
    assert "current" in cli.ok("model", "approvals", name, "1", token=team.risk.token)

    rejected = cli.json(
        "model", "sign-off", name, "1", "--env", "staging", "--comment", "not in staging",
        "--reject", token=team.approver.token,
    )  # fmt: skip
    assert rejected["approval"]["decision"] == "reject"
    assert rejected["decision"]["allowed"] is False

    refused = cli.error(
        1, "model", "sign-off", name, "1", "--env", "prod", "--comment", "my own work",
        token=team.trainer.token,
    )  # fmt: skip
    assert "HTTP 403" in refused


def test_waivers_and_a_governed_promotion(cli: Cli, team: Team, candidate: Built) -> None:
    name = candidate.model_name
    cli.ok(
        "model", "sign-off", name, "1", "--env", "prod", "--comment", "reviewed",
        token=team.approver.token,
    )  # fmt: skip
    cli.ok("model", "validate", name, "1", "--intent", "backtest ok", token=team.validator.token)
    cli.ok("model", "approve", name, "1", "--intent", "ship it", token=team.approver.token)
    promote = ("model", "promote", name, "1", "--env", "prod", "--intent", "Q4 release")
    denied = cli(*promote, token=team.deployer.token)
    assert denied.exit_code == 1
    assert "TP-FAIRNESS-GAP" in denied.stdout and "retrain with reweighting" in denied.stdout
    assert "decision dec_" in denied.stdout
    assert "HTTP 409 policy-denied" in denied.stderr
    problem = json.loads(cli(*promote, "--json", token=team.deployer.token).stdout)
    assert [v["id"] for v in problem["violations"]] == ["TP-FAIRNESS-GAP"]
    assert problem["decision_id"].startswith("dec_")

    ask = (
        "waivers", "request", "--model", name, "--version", "1", "--env", "prod",
        "--rule", "TP-FAIRNESS-GAP", "--reason", "reweighting lands next sprint",
        "--control", "weekly fairness report to the risk committee",
    )  # fmt: skip
    assert "exactly one of --expires or --days" in cli.error(2, *ask, token=team.everything.token)
    past = cli.error(2, *ask, "--expires", "2020-01-01", token=team.everything.token)
    assert "future" in past and "HTTP 400" in past
    waiver = cli.json(*ask, "--days", "30", token=team.everything.token)
    assert (waiver["status"], waiver["valid"]) == ("pending", False)
    own = cli.error(1, "waivers", "approve", waiver["id"], "--comment", "fine by me",
                    token=team.everything.token)  # fmt: skip
    assert "requested it" in own
    approved = cli.json(
        "waivers", "approve", waiver["id"], "--comment", "compensated", token=team.risk.token
    )
    assert (approved["status"], approved["valid"]) == ("approved", True)
    assert waiver["id"] in cli.ok("waivers", "list", "--status", "approved", token=team.risk.token)
    assert "compensating control" in cli.ok("waivers", "show", waiver["id"], token=team.risk.token)

    target = ("--model", name, "--version", "1", "--target", "prod")
    explained = cli.ok("policy", "eval", *target, token=team.risk.token)
    assert "allowed" in explained and "Waived violations" in explained
    assert waiver["id"] in explained

    bad = cli.error(2, *promote, "--category", "whim", token=team.deployer.token)
    assert "--category must be one of" in bad
    moved = cli.json(
        *promote, "--category", "drift", "--justification", "PSI above 0.2 on income",
        token=team.deployer.token,
    )  # fmt: skip
    assert moved["production_in"] == ["prod"]
    decisions = cli.json("decisions", "list", "--model-version", candidate.version_id, "--all")
    promotes = [d for d in decisions["items"] if d["checkpoint"] == "promote" and d["allowed"]]
    [last] = promotes
    facts = cli.json("decisions", "show", last["id"])["input"]["promotion"]
    assert facts["category"] == "drift" and facts["justification"] == "PSI above 0.2 on income"

    capped = cli.error(2, *ask, "--expires", "2099-01-01", token=team.everything.token)
    assert "at most" in capped
    review = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    second = cli.json(*ask, "--days", "10", "--review", review, token=team.everything.token)
    assert second["review_at"].startswith(review)
    no = cli.ok("waivers", "reject", second["id"], "--comment", "not needed", token=team.risk.token)
    assert "rejected" in no
    assert "HTTP 409" in cli.error(
        1, "waivers", "approve", second["id"], "--comment", "changed my mind", token=team.risk.token
    )
    assert "expired 0 waiver(s)" in cli.ok("waivers", "sweep", token=team.risk.token)
    assert "none" in cli.ok("waivers", "report", token=team.risk.token)
    assert cli.json("waivers", "report", token=team.risk.token)["candidates"] == []
