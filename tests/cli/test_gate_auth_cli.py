"""How ``trustplane gate`` signs in from CI: a token, a CI-provided OIDC JWT, or GitHub Actions.

The GitHub Actions token endpoint is outside the machine; an httpx MockTransport plays it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.cli.conftest import Cli, invoke, one_line_error
from tests.cli.policy_kit import ALLOW, write_bundle
from tests.conftest import TenantCtx
from tests.identity.oidc_kit import trust
from tests.registry.kit import build, make_team
from trustplane.cli import gate
from trustplane.cli.gate import CredentialError, ci_credential

GITHUB_URL = "https://pipelines.actions.example/idtoken/abc?api-version=2.0"
NO_CI_ENV: dict[str, str | None] = {
    gate.OIDC_TOKEN_VAR: None,
    gate.AUDIENCE_VAR: None,
    gate.GITHUB_URL_VAR: None,
    gate.GITHUB_TOKEN_VAR: None,
}
GITHUB_ENV = {gate.GITHUB_URL_VAR: GITHUB_URL, gate.GITHUB_TOKEN_VAR: "runtime-secret"}


def github(
    answer: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request] | None = None
) -> Callable[[], httpx.Client]:
    """A stand-in for the GitHub Actions token endpoint."""

    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return answer(request)

    return lambda: httpx.Client(transport=httpx.MockTransport(handle))


def issued(value: object) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, json={"count": 1, "value": value})


def test_a_token_comes_first_then_the_ci_jwt() -> None:
    env = {gate.OIDC_TOKEN_VAR: "ci.jwt", **GITHUB_ENV}
    assert ci_credential("tp_x", env) == gate.Credential("tp_x", "token")
    assert ci_credential(None, env) == gate.Credential("ci.jwt", "oidc-token")
    assert "ci.jwt" not in repr(ci_credential(None, env))


def test_github_actions_token_is_requested_for_the_audience() -> None:
    seen: list[httpx.Request] = []
    found = ci_credential(
        None, GITHUB_ENV, "https://tp.example/acme", http=github(issued("gh.jwt"), seen)
    )
    assert found == gate.Credential("gh.jwt", "github-actions")
    [request] = seen
    assert request.method == "GET"
    assert request.url.params["api-version"] == "2.0"
    assert request.url.params["audience"] == "https://tp.example/acme"
    assert str(request.url).startswith(GITHUB_URL + "&audience=")
    assert request.headers["Authorization"] == "Bearer runtime-secret"
    from_env = ci_credential(
        None, {**GITHUB_ENV, gate.AUDIENCE_VAR: "aud-from-env"}, http=github(issued("x"), seen)
    )
    assert from_env.token == "x" and seen[-1].url.params["audience"] == "aud-from-env"


@pytest.mark.parametrize(
    ("env", "answer", "message"),
    [
        ({}, None, "no credential"),
        (GITHUB_ENV, None, "needs an audience"),
        ({gate.GITHUB_URL_VAR: GITHUB_URL}, None, "no credential"),  # half the GitHub pair
        (GITHUB_ENV, lambda r: httpx.Response(403, json={}), "HTTP 403"),
        (GITHUB_ENV, issued(None), "holds no token"),
        (GITHUB_ENV, lambda r: httpx.Response(200, text="<html>"), "holds no token"),
        (GITHUB_ENV, lambda r: httpx.Response(200, json=["value"]), "holds no token"),
    ],
)
def test_credential_refusals(
    env: dict[str, str],
    answer: Callable[[httpx.Request], httpx.Response] | None,
    message: str,
) -> None:
    audience = None if message == "needs an audience" else "aud"
    http = github(answer) if answer is not None else None
    with pytest.raises(CredentialError, match=message):
        ci_credential(None, env, audience, http=http)


def test_an_unreachable_github_endpoint_is_a_credential_error() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(CredentialError, match="cannot get the GitHub Actions OIDC token"):
        ci_credential(None, GITHUB_ENV, "aud", http=github(down))


def test_gate_signs_in_with_a_ci_jwt_or_github_actions(
    cli: Cli,
    client: TestClient,
    tenant: TenantCtx,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ci = trust(client, tenant)
    bound = client.post(
        "/api/v1/bindings",
        json={"principal_id": ci.account_id, "role": "deployer", "reason": "CI gate"},
        headers=tenant.admin_headers,
    )
    assert bound.status_code == 201, bound.text
    built = build(client, make_team(client, tenant))
    cli.json("policy", "push", str(write_bundle(tmp_path / "allow", ALLOW)), "--activate")
    args = ("gate", "--model", built.model_name, "--version", "1", "--target", "prod", "--json")

    with_jwt = invoke(*args, env={**NO_CI_ENV, gate.OIDC_TOKEN_VAR: ci.token()})
    assert with_jwt.exit_code == 0, with_jwt.output
    assert json.loads(with_jwt.stdout)["actor_id"] == ci.account_id

    seen: list[httpx.Request] = []
    monkeypatch.setattr(gate, "github_http_factory", github(issued(ci.token()), seen))
    in_actions = invoke(*args, "--audience", ci.audience, env={**NO_CI_ENV, **GITHUB_ENV})
    assert in_actions.exit_code == 0, in_actions.output
    assert json.loads(in_actions.stdout)["actor_id"] == ci.account_id
    assert seen[0].url.params["audience"] == ci.audience

    no_audience = invoke(*args, env={**NO_CI_ENV, **GITHUB_ENV})
    assert no_audience.exit_code == 2 and "audience" in one_line_error(no_audience)
    nothing = invoke(*args, env=NO_CI_ENV)
    assert nothing.exit_code == 2 and "no credential" in one_line_error(nothing)
    stranger = ci.token(sub="repo:evil/fork:ref:refs/heads/main")
    refused = invoke(*args, env={**NO_CI_ENV, gate.OIDC_TOKEN_VAR: stranger})
    assert refused.exit_code == 2 and "HTTP 401" in one_line_error(refused)


def test_an_unreachable_server_is_exit_2() -> None:
    args = ("--url", "http://127.0.0.1:9", "--token", "tp_x", "gate", "--model", "m")
    result = invoke(*args, "--version", "1", "--target", "prod", env=NO_CI_ENV)
    assert result.exit_code == 2
    assert "cannot reach Trustplane" in one_line_error(result)
