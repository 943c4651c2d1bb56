"""Evidence commands: list and show releases, export a bundle, verify it offline."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from tests.cli.conftest import Cli, invoke, one_line_error
from tests.conftest import TenantCtx
from tests.evidence.kit import released


def test_export_then_verify_offline(
    cli: Cli, client: TestClient, tenant: TenantCtx, tmp_path: Path
) -> None:
    story = released(client, tenant)
    listed = cli.json("releases", "list", "--model", story.release.built.model_name)
    assert [r["id"] for r in listed["items"]] == [story.release_id]
    assert story.release_id in cli.ok("releases", "list")
    shown = cli.ok("releases", "show", story.release_id)
    assert f"Release {story.release_id}" in shown and "Policy decisions" in shown

    bundle, key = tmp_path / "evidence.json", tmp_path / "public.pem"
    out = cli.ok(
        "evidence",
        "export",
        "--release",
        story.release_id,
        "-o",
        str(bundle),
        "--key-out",
        str(key),
    )
    assert str(bundle) in out
    assert key.read_text().startswith("-----BEGIN PUBLIC KEY-----")

    good = invoke("evidence", "verify", str(bundle), "--key", str(key))  # offline: no token
    assert good.exit_code == 0, good.stderr
    assert f"verified the evidence of release {story.release_id}" in good.stdout
    report = json.loads(
        invoke("evidence", "verify", str(bundle), "--key", str(key), "--json").stdout
    )
    assert report["ok"] is True and report["release"] == story.release_id

    envelope = json.loads(bundle.read_text())
    envelope["signatures"][0]["sig"] = envelope["signatures"][0]["sig"][::-1]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(envelope))
    failed = invoke("evidence", "verify", str(bad), "--key", str(key))
    assert failed.exit_code == 1
    assert "DSSE signature" in failed.stderr and "Traceback" not in failed.stderr


def test_bad_input_gets_one_line(cli: Cli, tmp_path: Path) -> None:
    assert "no release rel_missing" in cli.error(
        2, "evidence", "export", "--release", "rel_missing", "-o", str(tmp_path / "x.json")
    )
    missing = invoke("evidence", "verify", str(tmp_path / "none.json"))
    assert missing.exit_code == 2
    assert "cannot read the bundle file" in one_line_error(missing)
    bundle = tmp_path / "b.json"
    bundle.write_text("{}")
    not_a_key = tmp_path / "k.pem"
    not_a_key.write_text("hello")
    wrong = invoke("evidence", "verify", str(bundle), "--key", str(not_a_key))
    assert wrong.exit_code == 2
    assert "not a PEM public key" in one_line_error(wrong)
    garbage = tmp_path / "g.json"
    garbage.write_text("not json")
    refused = invoke("evidence", "verify", str(garbage))
    assert refused.exit_code == 1
    assert "not JSON" in refused.stderr
