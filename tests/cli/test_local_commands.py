"""Local commands: they work on the data folder and database directly, with no server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trustplane.cli.main import app

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRUSTPLANE_HOME", str(tmp_path))
    monkeypatch.delenv("TRUSTPLANE_DATABASE_URL", raising=False)
    return tmp_path


def test_upgrade_then_bootstrap(home: Path) -> None:
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert (home / "trustplane.db").exists()

    created = runner.invoke(app, ["admin", "bootstrap", "--tenant", "acme", "--json"])
    assert created.exit_code == 0, created.output
    body = json.loads(created.stdout)
    assert body["tenant"]["name"] == "acme"
    assert [e["name"] for e in body["environments"]] == ["dev", "staging", "prod"]
    assert body["token"]["token"].startswith("tp_")

    again = runner.invoke(app, ["admin", "bootstrap", "--tenant", "acme"])
    assert again.exit_code == 1
    assert "already exists" in again.stderr

    reissued = runner.invoke(app, ["admin", "bootstrap", "--tenant", "acme", "--existing-ok"])
    assert reissued.exit_code == 0
    assert "fresh admin token" in reissued.stdout
    assert "tp_" in reissued.stdout


def test_bootstrap_rejects_a_bad_tenant_name(home: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["admin", "bootstrap", "--tenant", "Not A Slug"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "invalid tenant name" in result.stderr
    assert "Traceback" not in result.output


def test_serve_refuses_an_unmigrated_database(home: Path) -> None:
    result = runner.invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 1
    assert "trustplane db upgrade" in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["trustplane", "--bogus"],
        ["trustplane", "audit", "events", "--limit", "many"],
        ["trustplane", "bindings", "grant"],
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from trustplane.cli.main import run

    monkeypatch.setattr("sys.argv", argv)
    with pytest.raises(SystemExit) as exited:
        run()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "--help" in err


def test_bootstrap_on_an_unmigrated_database_says_what_to_do(home: Path) -> None:
    result = runner.invoke(app, ["admin", "bootstrap", "--tenant", "acme"])
    assert result.exit_code == 1
    assert "trustplane db upgrade" in result.stderr
    assert "Traceback" not in result.output
