"""Policy commands: test bundles locally, push and activate them, eval, gate, replay, decisions."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.cli.conftest import Cli, invoke, one_line_error
from tests.cli.policy_kit import (
    ALLOW,
    BROKEN,
    CRASHING,
    CRASHING_TEST,
    DENY,
    FAILING_TEST,
    PASSING_TEST,
    SECOND_APPROVAL,
    write_bundle,
)
from tests.conftest import TenantCtx
from tests.factories import add_member
from tests.registry.kit import Team, build, make_team
from trustplane.cli import context
from trustplane.client import Conflict, TrustplaneClient
from trustplane.client.errors import PROBLEM_BASE as PROBLEMS
from trustplane.client.errors import from_response


@pytest.fixture
def team(client: TestClient, tenant: TenantCtx) -> Team:
    return make_team(client, tenant)


# -- policy test: local, no server ------------------------------------------------------------


def test_policy_test_passes_a_good_bundle(tmp_path: Path, wide_console: None) -> None:
    good = write_bundle(tmp_path / "good", ALLOW, PASSING_TEST)
    result = invoke("policy", "test", str(good))
    assert result.exit_code == 0, result.output
    assert "trustplane.decision_test.test_allows" in result.stdout
    assert "1 passed, 0 failed" in result.stdout
    report = json.loads(invoke("policy", "test", str(good), "--json").stdout)
    assert (report["compiled"], report["passed"], report["failed"]) == (True, 1, 0)
    assert report["source"] == str(good)


def test_policy_test_fails_on_failing_tests_compile_errors_and_crashes(
    tmp_path: Path, wide_console: None
) -> None:
    failing = invoke("policy", "test", str(write_bundle(tmp_path / "f", ALLOW, FAILING_TEST)))
    assert failing.exit_code == 1
    assert "test_arithmetic" in failing.stdout and "FAIL" in failing.stdout
    assert "1 of 2 policy tests failed" in failing.stderr

    broken = invoke("policy", "test", str(write_bundle(tmp_path / "b", BROKEN)))
    assert broken.exit_code == 1
    assert "not compiled" in broken.stdout
    line = broken.stderr.strip()
    assert line.startswith("error: decision.rego:3:"), line  # file:line:col of the fault

    crashed = invoke("policy", "test", str(write_bundle(tmp_path / "c", CRASHING, CRASHING_TEST)))
    assert crashed.exit_code == 1
    assert "Rego engine crashed" in crashed.stderr
    assert "Traceback" not in crashed.output


def test_policy_test_refuses_what_is_not_a_bundle(tmp_path: Path) -> None:
    assert "not a directory" in one_line_error_of(2, "policy", "test", str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    assert "at least one .rego" in one_line_error_of(2, "policy", "test", str(tmp_path / "empty"))


def one_line_error_of(code: int, *args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == code, result.output
    return one_line_error(result)


# -- bundles through the API ------------------------------------------------------------------


def test_push_list_show_activate_and_second_approval(cli: Cli, team: Team, tmp_path: Path) -> None:
    first = write_bundle(tmp_path / "first", ALLOW, PASSING_TEST, SECOND_APPROVAL)
    pushed = cli.json("policy", "push", str(first), "--activate", "--description", "first")
    assert pushed["activated"]["digest"] == pushed["test_report"]["digest"]
    digest = pushed["activated"]["digest"]
    listed = cli.json("policy", "list")
    assert [b["digest"] for b in listed if b["active"]] == [digest]
    assert any(b["shipped"] for b in listed)  # the bundle shipped with Trustplane stays listed
    text = cli.ok("policy", "show", "--files")
    assert digest in text and "violations := set()" in text and "data.json" in text

    second = write_bundle(tmp_path / "second", ALLOW + "# second\n", PASSING_TEST)
    out = cli.ok("policy", "push", str(second), "--description", "second")
    assert "1 passed, 0 failed" in out and "stored bundle sha256:" in out
    other = next(b["digest"] for b in cli.json("policy", "list") if b["description"] == "second")
    assert cli.json("policy", "show", other)["active"] is False

    asked = cli.json("policy", "activate", other, "--reason", "roll out")
    assert asked["activated"] is None and asked["pending"]["status"] == "pending"
    request_id = asked["pending"]["id"]
    assert request_id in cli.ok("policy", "requests")
    same = cli.error(1, "policy", "approve-activation", request_id)
    assert "403" in same  # the requester cannot be the second person
    done = cli.ok("policy", "approve-activation", request_id, token=team.risk.token)
    assert f"activated {other}" in done
    assert cli.json("policy", "show")["digest"] == other
    history = cli.json("policy", "activations")["items"]
    assert [a["digest"] for a in history] == [digest, other]
    assert history[1]["approved_by"] == team.risk.id

    tested = cli.ok("policy", "test")  # the active bundle, fetched from the server
    assert f"active bundle {other}" in tested and "1 passed" in tested

    assert "HTTP 404" in cli.error(2, "policy", "show", "sha256:" + "0" * 64)
    assert "HTTP 409" in cli.error(1, "policy", "activate", other)  # already active


def test_push_refusals_show_the_report(cli: Cli, tmp_path: Path) -> None:
    failing = write_bundle(tmp_path / "failing", ALLOW, FAILING_TEST)
    refused = cli("policy", "push", str(failing))
    assert refused.exit_code == 1, refused.output
    assert "test_arithmetic" in refused.stdout and "FAIL" in refused.stdout
    assert "HTTP 409" in refused.stderr and "force" in refused.stderr
    forced = cli.json("policy", "push", str(failing), "--force")
    assert forced["test_report"]["failed"] == 1
    assert "(forced)" in cli.ok("policy", "list")

    broken = cli("policy", "push", str(write_bundle(tmp_path / "broken", BROKEN)))
    assert broken.exit_code == 2, broken.output
    assert "decision.rego:3:" in broken.stderr and "HTTP 400" in broken.stderr
    assert "not a policy bundle" in cli.error(2, "policy", "push", str(tmp_path / "missing"))


# -- eval, gate, replay, decisions ------------------------------------------------------------


def test_eval_and_gate_exit_codes(
    cli: Cli, client: TestClient, tenant: TenantCtx, team: Team, tmp_path: Path
) -> None:
    built = build(client, team)
    cli.json("policy", "push", str(write_bundle(tmp_path / "allow", ALLOW)), "--activate")
    where = ("--model", built.model_name, "--version", "1", "--target", "prod")
    reader = team.risk.token
    assert "allowed" in cli.ok("policy", "eval", *where, token=reader)
    allowed = cli.json("gate", *where, token=reader)
    assert allowed["allowed"] is True and allowed["id"].startswith("dec_")

    cli.json("policy", "push", str(write_bundle(tmp_path / "deny", DENY)), "--activate")
    denied = cli("policy", "eval", *where, token=reader)
    assert denied.exit_code == 1
    for word in ("denied", "TP-ALWAYS", "this bundle denies everything", "activate another"):
        assert word in denied.stdout
    assert "not recorded" in denied.stdout
    gated = cli("gate", *where, "--json", token=reader)
    assert gated.exit_code == 1 and gated.stderr == ""
    decision = json.loads(gated.stdout)
    assert decision["allowed"] is False
    assert [v["id"] for v in decision["violations"]] == ["TP-ALWAYS"]
    assert "TP-ALWAYS" in cli("gate", *where, token=reader).stdout

    unknown = cli("gate", "--model", "ghost", "--version", "1", "--target", "prod")
    assert unknown.exit_code == 2 and "HTTP 404" in unknown.stderr
    assert cli("gate", *where, token="tp_unknown").exit_code == 2  # 401 is exit 2 here
    nobody = add_member(client, tenant)  # holds no role: 403, and the gate says 2
    forbidden = cli("gate", *where, token=nobody.token)
    assert forbidden.exit_code == 2 and "HTTP 403" in forbidden.stderr
    bad = cli("gate", "--model", "m", "--version", "x", "--target", "prod")
    assert bad.exit_code == 2
    assert cli("gate", *where, "--checkpoint", "submit").exit_code == 2

    same = cli.ok("policy", "replay", decision["id"], token=reader)
    assert "same result (denied)" in same
    replay = cli.json("policy", "replay", allowed["id"], token=reader)
    assert (replay["same"], replay["differences"]) == (True, [])
    assert "HTTP 404" in cli.error(2, "policy", "replay", "dec_nope")

    listed = cli.json("decisions", "list", "--model-version", built.version_id, "--denied")
    assert decision["id"] in [d["id"] for d in listed["items"]]
    assert not any(d["allowed"] for d in listed["items"])
    only_allowed = cli.json("decisions", "list", "--model-version", built.version_id, "--allowed")
    assert [d["id"] for d in only_allowed["items"]] == [allowed["id"]]
    assert "at most one" in cli.error(2, "decisions", "list", "--denied", "--allowed")
    shown = cli.json("decisions", "show", decision["id"])
    assert shown["input"]["checkpoint"] == "promote"
    assert shown["input"]["version"]["id"] == built.version_id
    text = cli.ok("decisions", "show", decision["id"])
    assert "TP-ALWAYS" in text and built.version_id in text


# -- without a server: what the SDK reads from a denial, a replay that differs ---------------

DECISION = {
    "id": "dec_1",
    "checkpoint": "promote",
    "allowed": True,
    "violations": [],
    "waived": [],
    "bundle_digest": "sha256:" + "a" * 64,
    "input_digest": "sha256:" + "b" * 64,
    "duration_ms": 1.5,
    "model_version_id": "mv_1",
    "environment": "prod",
    "actor_id": "pr_1",
    "at": "2026-11-23T10:00:00Z",
    "event_id": "ev_1",
}


def test_the_sdk_reads_a_policy_denial() -> None:
    body = {
        "type": PROBLEMS + "policy-denied",
        "title": "Conflict",
        "status": 409,
        "detail": "policy denied 'promote' of m@1: TP-X",
        "decision_id": "dec_1",
        "violations": [{"id": "TP-X", "message": "m", "remediation": "r", "owner_role": "o"}],
        "waived": [],
        "missing_signoffs": [{"role": "release-approver", "rule_id": "TP-S", "message": "s"}],
    }
    error = from_response(httpx.Response(409, json=body))
    assert isinstance(error, Conflict)
    denial = error.policy_denial
    assert denial is not None and denial.decision_id == "dec_1"
    assert [(v.id, v.remediation, v.owner_role) for v in denial.violations] == [("TP-X", "r", "o")]
    assert [s.role for s in denial.missing_signoffs] == ["release-approver"]
    plain = from_response(httpx.Response(409, json={**body, "type": PROBLEMS + "conflict"}))
    assert plain.policy_denial is None and plain.policy_test_report is None


def test_a_replay_that_differs_exits_1(monkeypatch: pytest.MonkeyPatch, wide_console: None) -> None:
    replayed = {**DECISION, "id": None, "allowed": False, "violations": [
        {"id": "TP-NEW", "message": "now broken", "remediation": "", "owner_role": "validator"}
    ]}  # fmt: skip
    answer = {
        "decision_id": "dec_1",
        "same": False,
        "original": DECISION,
        "replayed": replayed,
        "differences": ["allowed: True then False"],
    }
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))

    def factory(url: str, token: str, correlation_id: str | None) -> TrustplaneClient:
        return TrustplaneClient(url, token, http=httpx.Client(transport=transport))

    monkeypatch.setattr(context, "client_factory", factory)
    result = invoke("--token", "tp_x", "policy", "replay", "dec_1")
    assert result.exit_code == 1, result.output
    assert "differs" in result.stdout and "allowed: True then False" in result.stdout
    assert "TP-NEW" in result.stdout
    as_json = invoke("--token", "tp_x", "policy", "replay", "dec_1", "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["same"] is False
