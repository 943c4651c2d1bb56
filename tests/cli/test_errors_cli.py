"""Failures: one line on stderr, never a traceback; exit 1 denied, exit 2 input error."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.cli.conftest import Cli, invoke, one_line_error
from tests.conftest import TenantCtx
from tests.factories import add_member
from trustplane.cli import context
from trustplane.client import (
    ConnectionFailed,
    Forbidden,
    NotFound,
    TrustplaneClient,
    ValidationFailed,
)


def test_forbidden_exits_1(cli: Cli, client: TestClient, tenant: TenantCtx) -> None:
    member = add_member(client, tenant)  # holds no role
    line = cli.error(1, "principals", "list", token=member.token)
    assert "principal.read" in line
    assert "HTTP 403 forbidden" in line
    assert "correlation id" in line
    assert "HTTP 403" in cli.error(1, "tenants", "create", "nope", token=member.token)


def test_unknown_token_exits_1(cli: Cli) -> None:
    assert "HTTP 401 unauthenticated" in cli.error(1, "whoami", token="tp_unknown")


def test_not_found_exits_2(cli: Cli) -> None:
    assert "HTTP 404 not-found" in cli.error(2, "principals", "show", "prn_nope")
    assert "HTTP 404" in cli.error(2, "tokens", "revoke", "tok_nope")
    assert "HTTP 404" in cli.error(2, "bindings", "revoke", "bnd_nope", "--reason", "gone")


def test_validation_errors_exit_2(cli: Cli) -> None:
    line = cli.error(2, "environments", "create", "x", "--sensitivity-ceiling", "secret")
    assert "sensitivity_ceiling" in line
    assert "HTTP 422 validation-error" in line
    assert "HTTP 422" in cli.error(2, "principals", "list", "--kind", "robot")
    assert "HTTP 422" in cli.error(2, "access", "review", "--unused-for-days", "0")
    assert "HTTP 422" in cli.error(
        2, "bindings", "grant", "--principal", "p", "--role", "wizard", "--reason", "why"
    )


def test_conflict_exits_1(cli: Cli) -> None:
    cli.json("environments", "create", "twice")
    assert "HTTP 409 conflict" in cli.error(1, "environments", "create", "twice")


def test_missing_token_exits_2_before_any_request() -> None:
    result = invoke("whoami")
    assert result.exit_code == 2
    assert "TRUSTPLANE_TOKEN" in one_line_error(result)


def test_token_and_url_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, wide_console: None
) -> None:
    seen: list[tuple[str, str]] = []

    def factory(url: str, token: str, correlation_id: str | None) -> TrustplaneClient:
        seen.append((url, token))
        return context.default_factory(url, token, correlation_id)

    monkeypatch.setattr(context, "client_factory", factory)
    env = {"TRUSTPLANE_URL": "http://127.0.0.1:9", "TRUSTPLANE_TOKEN": "tp_from_env"}
    result = invoke("whoami", env=env)
    assert seen == [("http://127.0.0.1:9", "tp_from_env")]
    line = one_line_error(result)
    assert result.exit_code == 1
    assert "cannot reach Trustplane at http://127.0.0.1:9" in line


@pytest.mark.parametrize(
    "args",
    [
        ["whoami"],
        ["tokens", "create", "--json"],
        ["audit", "events", "--all"],
        ["oidc", "rules", "list"],
    ],
)
def test_unreachable_server_is_one_line(args: list[str], wide_console: None) -> None:
    result = invoke("--url", "http://127.0.0.1:9", "--token", "tp_x", *args)
    assert result.exit_code == 1
    line = one_line_error(result)
    assert "cannot reach Trustplane at http://127.0.0.1:9" in line
    assert "is the server running?" in line


def test_exit_codes_by_error_class() -> None:
    def api(cls: type[Forbidden | NotFound | ValidationFailed], status: int) -> int:
        return context.exit_code(cls(status, "about:blank", "t", "d"))

    assert api(Forbidden, 403) == 1
    assert api(NotFound, 404) == 2
    assert api(ValidationFailed, 422) == 2
    assert context.exit_code(ConnectionFailed("http://x", "refused")) == 1
