"""The dataset, feature, run and model commands, end to end through the SDK and the API."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.backends import in_ci
from tests.cli.conftest import Cli
from tests.conftest import TenantCtx
from tests.registry.kit import Team, make_team
from trustplane.client.artifacts import ArtifactError, artifact_digest


@pytest.fixture
def team(client: TestClient, tenant: TenantCtx) -> Team:
    return make_team(client, tenant)


def _tree(root: Path) -> Path:
    (root / "weights").mkdir(parents=True)
    (root / "weights" / "layer.bin").write_bytes(b"\x00\x01" * 1000)
    (root / "config.json").write_text('{"depth": 6}')
    (root / "a.b").write_text("dot")
    (root / "empty").mkdir()
    return root


def test_artifact_digest_of_a_file_is_its_sha256(tmp_path: Path) -> None:
    f = tmp_path / "model.pkl"
    f.write_bytes(b"weights")
    assert artifact_digest(f) == "sha256:" + hashlib.sha256(b"weights").hexdigest()


def test_artifact_digest_of_a_tree_matches_sha256sum(tmp_path: Path) -> None:
    root = _tree(tmp_path / "model")
    if shutil.which("sha256sum") is None:  # coreutils; CI images have it, so CI must run this
        if in_ci():
            pytest.fail("sha256sum is needed to check the artifact digest", pytrace=False)
        pytest.skip("sha256sum not installed")
    pipeline = (
        "find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum"
    )
    out = subprocess.run(
        ["sh", "-c", pipeline], cwd=root, check=True, capture_output=True, text=True
    ).stdout
    assert artifact_digest(root) == "sha256:" + out.split()[0]


def test_artifact_digest_ignores_modes_and_order_but_not_content_or_names(tmp_path: Path) -> None:
    first = artifact_digest(_tree(tmp_path / "one"))
    other = tmp_path / "two"
    (other / "empty").mkdir(parents=True)
    (other / "a.b").write_text("dot")
    (other / "config.json").write_text('{"depth": 6}')
    (other / "weights").mkdir()
    (other / "weights" / "layer.bin").write_bytes(b"\x00\x01" * 1000)
    (other / "config.json").chmod(0o600)
    assert artifact_digest(other) == first
    (other / "config.json").write_text('{"depth": 7}')
    assert artifact_digest(other) != first
    (other / "config.json").write_text('{"depth": 6}')
    (other / "config.json").rename(other / "config2.json")
    assert artifact_digest(other) != first


def test_artifact_digest_refusals(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        artifact_digest(tmp_path / "nope")
    (tmp_path / "hollow").mkdir()
    with pytest.raises(ArtifactError, match="holds no file"):
        artifact_digest(tmp_path / "hollow")
    looped = _tree(tmp_path / "looped")
    (looped / "back").symlink_to(looped, target_is_directory=True)
    with pytest.raises(ArtifactError, match="link to a directory"):
        artifact_digest(looped)


def test_dataset_commands(cli: Cli, team: Team, tmp_path: Path) -> None:
    tok = team.steward.token
    created = cli.json("dataset", "register", "loans", "--namespace", "s3://lake", token=tok)
    assert created["namespace"] == "s3://lake"
    data = tmp_path / "loans.parquet"
    data.write_bytes(b"rows")
    dv = cli.json(
        "dataset", "version", "loans", "--namespace", "s3://lake",
        "--version", "2026-11", "--uri", "s3://lake/loans/2026-11", "--file", str(data),
        "--schema", "id:int, income:float", "--rows", "2", "--sensitivity", "confidential",
        token=tok,
    )  # fmt: skip
    assert dv["digest"] == "sha256:" + hashlib.sha256(b"rows").hexdigest()
    assert dv["schema"] == [{"name": "id", "type": "int"}, {"name": "income", "type": "float"}]
    assert "approved" in cli.ok("dataset", "approve", dv["id"], "--reason", "DPIA ok", token=tok)
    assert "flagged" in cli.ok("dataset", "flag", dv["id"], "--reason", "erasure", token=tok)
    listed = cli.ok("dataset", "list", "--namespace", "s3://lake", token=tok)
    assert "loans" in listed and created["id"] in listed
    versions = cli.json("dataset", "list", created["id"], token=tok)["items"]
    assert [(v["approval_status"], v["flagged_for_removal"]) for v in versions] == [
        ("approved", True)
    ]
    both = cli.error(2, "dataset", "version", "loans", "--version", "x", "--uri", "u", token=tok)
    assert "exactly one of --digest or --file" in both
    bad = cli.error(
        2, "dataset", "version", created["id"], "--version", "x", "--uri", "u",
        "--digest", "sha256:nothex", token=tok,
    )  # fmt: skip
    assert "digest" in bad and "422" in bad
    assert "not found" in cli.error(
        2,
        "dataset",
        "version",
        "ghost",
        "--version",
        "1",
        "--uri",
        "u",
        "--digest",
        "sha256:" + "0" * 64,
        token=tok,
    )
    denied = cli.error(1, "dataset", "register", "x", token=team.trainer.token)
    assert "dataset.register" in denied


def test_feature_and_run_commands(cli: Cli, team: Team, tmp_path: Path) -> None:
    cli.json("dataset", "register", "raw", token=team.steward.token)
    dv = cli.json(
        "dataset", "version", "raw", "--version", "1", "--uri", "s3://raw",
        "--digest", "sha256:" + "1" * 64, token=team.steward.token,
    )  # fmt: skip
    eng = team.engineer.token
    fv = cli.json(
        "feature", "define", "ratio", "--version", "1", "--definition", "a / b",
        "--source", dv["id"], "--column", "a", "--column", "b", token=eng,
    )  # fmt: skip
    assert fv["source_dataset_versions"] == [dv["id"]]
    assert "ratio" in cli.ok("feature", "list", token=eng)
    assert "a / b" in cli.ok("feature", "list", "ratio", token=eng)
    body = {"code_repo": "https://git.example/m", "commit_sha": "d" * 40, "inputs": [dv["id"]]}
    run_file = tmp_path / "run.json"
    run_file.write_text(json.dumps(body))
    lock = tmp_path / "uv.lock"
    lock.write_text("pinned")
    model_file = tmp_path / "m.bin"
    model_file.write_bytes(b"m")
    run = cli.json(
        "run", "record", "--file", str(run_file), "--input", fv["id"],
        "--lockfile", str(lock), "--param", "lr=0.1", "--metric", "auc=0.9",
        "--artifact", f"model={model_file}", token=team.trainer.token,
    )  # fmt: skip
    assert run["inputs"] == sorted([fv["id"]])  # flags win over the file
    assert run["env_fingerprint"] == artifact_digest(lock)
    assert (run["parameters"], run["metrics"]) == ({"lr": "0.1"}, {"auc": 0.9})
    assert run["artifacts"] == [
        {"name": "model", "uri": None, "digest": artifact_digest(model_file)}
    ]
    assert run["commit_sha"] == "d" * 40
    assert "not of the form key=value" in cli.error(
        2, "run", "record", "--param", "lr", token=team.trainer.token
    )
    assert "must be a number" in cli.error(
        2, "run", "record", "--metric", "auc=high", token=team.trainer.token
    )
    text = cli.ok("feature", "deprecate", "ratio", "--reason", "leaks target", token=eng)
    assert "deprecated 1 version(s)" in text
    assert "deprecated: leaks target" in cli.ok("feature", "list", "ratio", token=eng)


def test_model_lifecycle_commands(cli: Cli, team: Team, tmp_path: Path) -> None:
    cli.json("dataset", "register", "train", token=team.steward.token)
    dv = cli.json(
        "dataset", "version", "train", "--version", "1", "--uri", "s3://t",
        "--digest", "sha256:" + "2" * 64, token=team.steward.token,
    )  # fmt: skip
    cli.ok("dataset", "approve", dv["id"], "--reason", "reviewed", token=team.steward.token)
    tr = team.trainer.token
    run = cli.json(
        "run", "record", "--commit", "e" * 40, "--env-fingerprint", "image@sha256:abc",
        "--input", dv["id"], "--metric", "auc=0.8", token=tr,
    )  # fmt: skip
    cli.json(
        "model", "register", "churn", "--owner", "growth", "--intended-use", "retention offers",
        "--risk-tier", "medium", token=tr,
    )  # fmt: skip
    artifact = _tree(tmp_path / "churn")
    mv = cli.json(
        "model",
        "version",
        "create",
        "churn",
        "--artifact",
        str(artifact),
        "--run",
        run["id"],
        token=tr,
    )
    assert (mv["version"], mv["state"]) == (1, "draft")
    assert mv["artifact_digest"] == artifact_digest(artifact)
    bare = cli.json(
        "model", "version", "create", "churn", "--digest", "sha256:" + "3" * 64, token=tr
    )
    missing = cli.error(1, "model", "submit", "churn", "2", "--intent", "try", token=tr)
    assert "missing evidence producing_run, code_commit" in missing and bare["version"] == 2
    assert "candidate" in cli.ok("model", "submit", "churn", "1", "--intent", "ready", token=tr)
    cli.ok("model", "validate", "churn", "1", "--intent", "backtest ok", token=team.validator.token)
    illegal = cli.error(
        1, "model", "retire", "churn", "1", "--intent", "not yet", token=team.risk.token
    )
    assert "allowed: approve, reject" in illegal
    stale = cli.error(
        1, "model", "approve", "churn", "1", "--intent", "ok then", "--if-match", mv["etag"],
        token=team.approver.token,
    )  # fmt: skip
    assert "412" in stale
    cli.ok("model", "approve", "churn", "1", "--intent", "signed off", token=team.approver.token)
    promoted = cli.json(
        "model", "promote", "churn", "1", "--env", "prod", "--intent", "Q4 release",
        token=team.deployer.token,
    )  # fmt: skip
    assert promoted["production_in"] == ["prod"]
    history = cli.ok("model", "history", "churn", token=team.risk.token)
    for word in ("submit", "validate", "approve", "promote", "Q4 release", team.deployer.name):
        assert word in history
    only = cli.json("model", "history", "churn", "--version", "1", token=team.risk.token)
    assert [h["action"] for h in only["items"]][-1] == "promote"
    at = promoted["updated_at"]
    now = cli.json("model", "at", "churn", "--time", at, "--env", "prod", token=team.risk.token)
    assert now["version"] == 1
    before = (datetime.fromisoformat(at) - timedelta(seconds=1)).isoformat()
    assert "no version of churn" in cli.ok(
        "model", "at", "churn", "--time", before, "--env", "prod", token=tr
    )
    naive = cli.error(
        2, "model", "at", "churn", "--time", "2026-01-01T00:00:00", "--env", "prod", token=tr
    )
    assert "UTC offset" in naive
    listed = cli.ok("model", "version", "list", "churn", token=tr)
    assert "production" in listed and "prod" in listed
    assert "evidence missing: nothing" in cli.ok("model", "version", "show", "churn", "1", token=tr)
    assert "churn" in cli.ok("model", "list", "--risk-tier", "medium", token=tr)
    assert "not found" in cli.error(2, "model", "submit", "ghost", "1", "--intent", "x", token=tr)
    assert datetime.fromisoformat(at).tzinfo == UTC or datetime.fromisoformat(
        at
    ).utcoffset() == timedelta(0)
