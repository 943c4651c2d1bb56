"""The tabletop exercise: the database is gone, the server stopped; the export tells the story."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.backends import fresh_database
from tests.cli.conftest import invoke
from tests.evidence.kit import released
from tests.factories import bootstrap_tenant
from tests.registry.kit import API, act, ok
from trustplane.api.app import create_app
from trustplane.audit import merkle, notes
from trustplane.audit.canonical import canonical_json
from trustplane.config import Settings
from trustplane.db.migrate import upgrade
from trustplane.db.session import make_engine, make_session_factory

TIMELESS = {"at"}  # a row's time and its event's time differ by microseconds


def _without_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_times(v) for k, v in value.items() if k not in TIMELESS}
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_release_is_rebuilt_from_the_export_alone(kind: str, tmp_path: Path) -> None:
    export = tmp_path / "export"
    with fresh_database(kind, tmp_path) as url:
        upgrade(url)
        settings = Settings(
            home=tmp_path / "home",
            database_url=url,
            checkpoint_interval_seconds=0,
            waiver_sweep_interval_seconds=0,
        )
        engine = make_engine(url)
        tenant = bootstrap_tenant(make_session_factory(engine))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            app = TestClient(create_app(settings), raise_server_exceptions=False)
        with app as client:
            story = released(client, tenant)
            team, version_id = story.release.team, story.version_id
            etag = ok(
                client.get(f"{API}/model-versions/{version_id}", headers=tenant.admin_headers)
            )["etag"]
            ok(act(client, team.everything.headers, version_id, "suspend", etag))
            said = ok(
                client.get(f"{API}/releases/{story.release_id}", headers=tenant.admin_headers)
            )
        local = {"TRUSTPLANE_HOME": str(settings.home), "TRUSTPLANE_DATABASE_URL": url}
        exported = invoke("audit", "export", str(export), "--tenant", tenant.name, env=local)
        assert exported.exit_code == 0, exported.stderr
        engine.dispose()
        if kind == "sqlite":
            Path(url.removeprefix("sqlite:///")).unlink()
    # the database no longer exists (PostgreSQL dropped it as the block ended)
    gone = {"TRUSTPLANE_HOME": str(tmp_path / "elsewhere"), "TRUSTPLANE_DATABASE_URL": url}
    result = invoke(
        "reconstruct", "--release", story.release_id, "--from", str(export), "--json", env=gone
    )
    assert result.exit_code == 0, result.stderr
    told = json.loads(result.stdout)
    assert told["verified"]["ok"] is True
    for section in (
        "release",
        "model",
        "training",
        "checks",
        "decisions",
        "approvals",
        "waivers",
        "after",
    ):
        assert _without_times(told[section]) == _without_times(said[section]), section
    assert [a["action"] for a in told["after"]] == ["suspend"]
    assert len(told["decisions"]) >= 3 and told["training"]["datasets"]
    assert (len(told["approvals"]), len(told["waivers"])) == (2, 1)
    assert told["release"]["at"][:19] == said["release"]["at"][:19]
    actions = [m["action"] for m in told["timeline"]]
    assert actions.index("policy.decision.promote") < actions.index("model.promote")
    assert "waiver.approve" in actions and "model.signoff.approve" in actions

    people = invoke("reconstruct", "--release", story.release_id, "--from", str(export), env=gone)
    assert people.exit_code == 0, people.stderr
    assert f"Release {story.release_id}" in people.stdout
    assert "Timeline (ledger order)" in people.stdout
    unknown = invoke("reconstruct", "--release", "rel_unknown", "--from", str(export), env=gone)
    assert unknown.exit_code == 1
    assert "release rel_unknown is not in this ledger" in unknown.stderr


def test_reconstruct_refuses_what_it_cannot_trust(tmp_path: Path) -> None:
    missing = invoke("reconstruct", "--release", "rel_x", "--from", str(tmp_path / "nothing"))
    assert missing.exit_code == 2
    assert "not a readable export folder" in missing.stderr
    not_an_export = tmp_path / "folder"
    not_an_export.mkdir()
    (not_an_export / "notes.txt").write_text("hello")
    refused = invoke("reconstruct", "--release", "rel_x", "--from", str(not_an_export))
    assert refused.exit_code == 1
    assert "does not verify" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_verified_ledger_of_foreign_shape_gets_one_line(tmp_path: Path) -> None:
    """An export signed by its own key verifies; events Trustplane never wrote are refused."""
    tenant = "ten_forged"
    event = {
        "action": "model.promote",
        "outcome": "allowed",
        "payload": {"release_id": "rel_forged", "model_id": 7},
        "seq": 0,
        "target": {"id": "mv_forged", "kind": "model_version"},
        "tenant": tenant,
        "time": "2026-11-23T10:00:00.000000Z",
        "v": 1,
    }
    leaf = canonical_json(event)
    signer = notes.Signer.generate("forger")
    root = merkle.root_from_leaf_hashes([merkle.leaf_hash(leaf)])
    note = notes.sign_checkpoint(notes.Checkpoint(f"forger/ledger/{tenant}", 1, root), signer)
    folder = tmp_path / "export"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "events.jsonl").write_bytes(leaf + b"\n")
    (folder / "checkpoint").write_text(note)
    (folder / "checkpoints" / "1").write_text(note)
    (folder / "public.key").write_text(signer.verifier().key_string() + "\n")
    assert invoke("audit", "verify", str(folder)).exit_code == 0
    refused = invoke("reconstruct", "--release", "rel_forged", "--from", str(folder))
    assert refused.exit_code == 1, refused.stdout
    assert "do not have the shape of Trustplane events" in refused.stderr
    assert "Traceback" not in refused.stderr
