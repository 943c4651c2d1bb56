"""CLI fixtures: the real Typer app, its SDK client bound to the in-process API."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from tests.conftest import TenantCtx
from trustplane.cli import context, output
from trustplane.cli.main import app
from trustplane.client import TrustplaneClient

UNSET_ENV: dict[str, str | None] = {"TRUSTPLANE_URL": None, "TRUSTPLANE_TOKEN": None}


def invoke(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    """Run ``trustplane *args`` without inheriting TRUSTPLANE_ variables."""
    return CliRunner().invoke(app, list(args), env={**UNSET_ENV, **(env or {})})


@dataclass
class Cli:
    """Runs commands as ``token`` (the tenant admin unless told otherwise)."""

    token: str

    def __call__(self, *args: str, token: str | None = None) -> Result:
        return invoke("--token", token or self.token, *args)

    def ok(self, *args: str, token: str | None = None) -> str:
        result = self(*args, token=token)
        assert result.exit_code == 0, (result.stdout, result.stderr)
        assert result.stderr == ""
        return result.stdout

    def json(self, *args: str, token: str | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", token=token))

    def error(self, code: int, *args: str, token: str | None = None) -> str:
        """Run a command expected to fail; return its single stderr line."""
        result = self(*args, token=token)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        return one_line_error(result)


def one_line_error(result: Result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return lines[0]


@pytest.fixture
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wide tables, so assertions on ids are not defeated by wrapping."""
    monkeypatch.setattr(output.console, "_width", 400)
    monkeypatch.setattr(output.err_console, "_width", 400)


@pytest.fixture
def cli(
    client: TestClient, tenant: TenantCtx, monkeypatch: pytest.MonkeyPatch, wide_console: None
) -> Cli:
    def factory(url: str, token: str, correlation_id: str | None) -> TrustplaneClient:
        return TrustplaneClient(
            "http://testserver", token, http=client, correlation_id=correlation_id
        )

    monkeypatch.setattr(context, "client_factory", factory)
    return Cli(tenant.admin_token)
