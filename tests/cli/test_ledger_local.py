"""Local ledger commands: export and fsck on the database, verify on files alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import Result

from tests.cli.conftest import invoke, one_line_error
from tests.conftest import TenantCtx
from trustplane.audit.checkpoints import origin_for, signer_from_settings
from trustplane.audit.notes import Checkpoint, Signer, sign_checkpoint
from trustplane.config import Settings


@pytest.fixture
def env(settings: Settings, wide_console: None) -> dict[str, str | None]:
    """Local commands find the test database and its signing key through the environment."""
    return {"TRUSTPLANE_HOME": str(settings.home), "TRUSTPLANE_DATABASE_URL": settings.database_url}


def run(env: dict[str, str | None], *args: str) -> Result:
    return invoke(*args, env=env)


def exported(env: dict[str, str | None], tenant: TenantCtx, folder: Path) -> dict[str, object]:
    result = run(env, "audit", "export", str(folder), "--tenant", tenant.name, "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    body: dict[str, object] = json.loads(result.stdout)
    return body


def test_export_verify_and_fsck(
    env: dict[str, str | None], tenant: TenantCtx, tmp_path: Path
) -> None:
    summary = exported(env, tenant, tmp_path / "out")
    assert summary["tenant_id"] == tenant.id
    events = summary["events"]
    assert isinstance(events, int) and events > 0
    text = run(env, "audit", "verify", str(tmp_path / "out"))
    assert text.exit_code == 0, text.stderr
    assert f"verified {events} events of trustplane/ledger/{tenant.id}" in text.stdout
    report = json.loads(run(env, "audit", "verify", str(tmp_path / "out"), "--json").stdout)
    assert (report["ok"], report["events"], report["failures"]) == (True, events, [])
    checked = run(env, "audit", "fsck", "--tenant", tenant.name, "--json")
    assert checked.exit_code == 0, checked.stdout
    assert json.loads(checked.stdout)["ok"] is True
    plain = run(env, "audit", "fsck", "--tenant", tenant.name)
    assert plain.exit_code == 0 and "is consistent" in plain.stdout


def test_verify_names_the_first_bad_leaf_and_exits_1(
    env: dict[str, str | None], tenant: TenantCtx, tmp_path: Path
) -> None:
    exported(env, tenant, tmp_path / "out")
    events = tmp_path / "out" / "events.jsonl"
    lines = events.read_bytes().split(b"\n")
    events.write_bytes(b"\n".join([*lines[:2], *lines[3:]]))  # leaf 2 deleted
    result = run(env, "audit", "verify", str(tmp_path / "out"))
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: leaf 2 (line 3 of events.jsonl): seq is 3, expected 2"), first
    as_json = run(env, "audit", "verify", str(tmp_path / "out"), "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["first_bad_index"] == 2


def test_verify_checks_a_witness_and_a_pinned_key(
    env: dict[str, str | None], settings: Settings, tenant: TenantCtx, tmp_path: Path
) -> None:
    exported(env, tenant, tmp_path / "out")
    origin = origin_for(settings.ledger_name, tenant.id)
    witness = tmp_path / "witness.jsonl"
    records = [
        {"origin": origin, "size": int(path.name), "note": path.read_text()}
        for path in (tmp_path / "out" / "checkpoints").iterdir()
    ]
    witness.write_text("".join(json.dumps(r) + "\n" for r in records))
    good = run(env, "audit", "verify", str(tmp_path / "out"), "--witness", str(witness))
    assert good.exit_code == 0 and f"{len(records)} witnessed" in good.stdout
    key = tmp_path / "other.key"
    key.write_text(Signer.generate("trustplane").verifier().key_string() + "\n")
    pinned = run(env, "audit", "verify", str(tmp_path / "out"), "--key-file", str(key))
    assert pinned.exit_code == 1
    assert "does not verify" in pinned.stderr.splitlines()[0]


def test_fsck_fails_on_a_witnessed_size_the_ledger_no_longer_has(
    env: dict[str, str | None], settings: Settings, tenant: TenantCtx, tmp_path: Path
) -> None:
    origin = origin_for(settings.ledger_name, tenant.id)
    future = Checkpoint(origin, 10_000, b"\x01" * 32)
    note = sign_checkpoint(future, signer_from_settings(settings))
    witness = tmp_path / "witness.jsonl"
    witness.write_text(json.dumps({"origin": origin, "size": 10_000, "note": note}) + "\n")
    result = run(env, "audit", "fsck", "--tenant", tenant.name, "--witness", str(witness))
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: witness line 1 (size 10000)") and "history was cut" in first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "verify", "/nonexistent/export"], "is not a readable export folder"),
        (["audit", "export", "{tmp}/out"], "several tenants"),
        (["audit", "export", "{tmp}/out", "--tenant", "no-such-tenant"], "no tenant named"),
        (["audit", "fsck", "--tenant", "x", "--witness", "{tmp}/none"], "cannot read the witness"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    env: dict[str, str | None], tenant: TenantCtx, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run(env, *(a.format(tmp=tmp_path) for a in args))
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in one_line_error(result)


def test_verify_with_a_key_file_holding_no_key_is_a_usage_error(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    (tmp_path / "key").write_text("not-a-key+00000000+AAAA\n")
    (tmp_path / "export").mkdir()
    result = run(env, "audit", "verify", str(tmp_path / "export"), "--key-file", f"{tmp_path}/key")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "holds no verifier key" in one_line_error(result)


def test_export_refuses_a_folder_with_content(
    env: dict[str, str | None], tenant: TenantCtx, tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    result = run(env, "audit", "export", str(tmp_path / "out"), "--tenant", tenant.name)
    assert result.exit_code == 2
    assert "not an empty folder" in one_line_error(result)


def test_export_defaults_to_the_only_tenant(tmp_path: Path, wide_console: None) -> None:
    home: dict[str, str | None] = {
        "TRUSTPLANE_HOME": str(tmp_path / "home"),
        "TRUSTPLANE_DATABASE_URL": None,
    }
    assert run(home, "db", "upgrade").exit_code == 0
    assert run(home, "admin", "bootstrap", "--tenant", "solo").exit_code == 0
    result = run(home, "audit", "export", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    assert "check it with: trustplane audit verify" in result.stdout
    assert run(home, "audit", "verify", str(tmp_path / "out")).exit_code == 0
    assert run(home, "audit", "fsck").exit_code == 0
