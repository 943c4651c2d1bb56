"""``trustplane demo seed``: the real console script, on a fresh SQLite or PostgreSQL database.

The first seed runs once per backend (it trains real models and plays the whole story, a few
seconds); the tests read its summary, then seed again to check that the story is kept.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.backends import fresh_database
from tests.processes import clean_env, free_port, trustplane_executable, wait_ready

pytestmark = pytest.mark.server

TIMEOUT = 120


@dataclass
class Seeded:
    home: Path
    env: dict[str, str]
    summary: dict[str, Any]


def seed(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [trustplane_executable(), "demo", "seed", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def seed_json(env: dict[str, str]) -> dict[str, Any]:
    done = seed(env, "--json")
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr)
    assert "Traceback" not in done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def sha256_of(path: str | Path) -> str:
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    folder = tmp_path_factory.mktemp(f"demo-{request.param}")
    with fresh_database(request.param, folder) as url:
        home = folder / "home"
        env = clean_env(home, TRUSTPLANE_DATABASE_URL=url)
        yield Seeded(home, env, seed_json(env))


def test_the_high_risk_model_is_denied_then_released_with_a_waiver(seeded: Seeded) -> None:
    summary = seeded.summary
    assert summary["seeded"] is True
    assert summary["tenant"] == "acme-bank"
    assert summary["token"].startswith("tp_")
    denied = summary["denied"]
    assert (denied["model"], denied["version"], denied["target"]) == ("credit-default", 1, "prod")
    assert {v["id"] for v in denied["violations"]} == {"TP-FAIRNESS-GAP", "TP-SIGNOFF-MISSING"}
    assert [s["role"] for s in denied["missing_signoffs"]] == ["release-approver"]
    assert summary["waiver"]["rule_ids"] == ["TP-FAIRNESS-GAP"]
    released = summary["released"]
    assert (released["model"], released["version"], released["target"]) == (
        "credit-default",
        1,
        "prod",
    )
    assert released["release"].startswith("rel_")
    assert released["artifact_digest"] == sha256_of(released["artifact"])
    assert Path(released["artifact"]).parent == seeded.home / "demo"
    assert released["metrics"]["auc"] >= 0.75


def test_the_evidence_bundle_verifies_offline(seeded: Seeded) -> None:
    evidence = seeded.summary["evidence"]
    assert evidence["verified"] is True, evidence["failures"]
    assert evidence["failures"] == []
    release = seeded.summary["released"]["release"]
    assert Path(evidence["bundle"]).name == f"{release}.dsse.json"
    card = Path(evidence["model_card"]).read_text(encoding="utf-8")
    assert seeded.summary["released"]["artifact_digest"] in card


def test_the_data_files_are_the_recorded_dataset_versions(seeded: Seeded) -> None:
    datasets = {d["name"]: d for d in seeded.summary["datasets"]}
    assert set(datasets) == {"credit-applications", "open-banking-signals", "atm-withdrawals"}
    for dataset in datasets.values():
        assert dataset["digest"] == sha256_of(dataset["file"])
    written = json.loads((seeded.home / "demo" / "summary.json").read_text(encoding="utf-8"))
    assert written["released"] == seeded.summary["released"]
    assert "tp_" not in json.dumps(written)  # the file holds no token


def test_the_low_risk_model_is_released_by_machines_alone(seeded: Seeded) -> None:
    automatic = seeded.summary["automatic"]
    assert (automatic["model"], automatic["target"]) == ("atm-cash-demand", "prod")
    assert automatic["artifact_digest"] == sha256_of(automatic["artifact"])
    kinds = {p["name"]: p["kind"] for p in seeded.summary["principals"]}
    for name in ("ci-training", "ci-checks", "release-bot", "cd-deploy"):
        assert kinds[name] == "service_account"


def test_flagging_the_second_dataset_shows_the_released_model(seeded: Seeded) -> None:
    flagged = seeded.summary["flagged"]
    assert flagged["dataset"] == "open-banking-signals"
    assert {"model": "credit-default", "version": 1} in [
        {"model": a["model"], "version": a["version"]} for a in flagged["affected"]
    ]
    assert "TP-DATA-FLAGGED" in flagged["policy_now"]


def test_the_second_tenant_is_isolated(seeded: Seeded) -> None:
    isolation = seeded.summary["isolation"]
    assert isolation["tenant"] == "northwind-insurance"
    assert isolation["model_id"].startswith("mdl_")
    assert (isolation["cross_tenant_status"], isolation["reverse_status"]) == (404, 404)


def test_seeding_again_keeps_the_story_and_issues_fresh_tokens(seeded: Seeded) -> None:
    first = seeded.summary
    again = seed_json(seeded.env)
    assert again["seeded"] is False
    assert again["token"].startswith("tp_") and again["token"] != first["token"]
    assert set(again["tokens"]) == set(first["tokens"])
    assert not set(again["tokens"].values()) & set(first["tokens"].values())
    for key in ("release", "artifact_digest", "version_id"):
        assert again["released"][key] == first["released"][key]
    assert again["denied"]["decision"] == first["denied"]["decision"]
    assert again["automatic"]["release"] == first["automatic"]["release"]


def test_a_missing_scikit_learn_is_one_line(tmp_path: Path) -> None:
    """A Python where scikit-learn cannot be imported: one line, exit 1, nothing created."""
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text("import sys\nsys.modules['sklearn'] = None\n")
    home = tmp_path / "home"
    done = seed(clean_env(home, PYTHONPATH=str(hide)))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: the demo needs scikit-learn: pip install 'trustplane[demo]'"
    ]
    assert not (home / "trustplane.db").exists()


def test_seeding_a_running_server_once(tmp_path: Path) -> None:
    """With a URL, the demo creates both tenants over the API with a platform admin's token."""
    server_home = tmp_path / "server"
    local = clean_env(server_home)
    subprocess.run(
        [trustplane_executable(), "db", "upgrade"], env=local, check=True, capture_output=True
    )
    boot = subprocess.run(
        [trustplane_executable(), "admin", "bootstrap", "--tenant", "ops", "--json"],
        env=local,
        check=True,
        capture_output=True,
        text=True,
    )
    token = json.loads(boot.stdout)["token"]["token"]
    url = f"http://127.0.0.1:{free_port()}"
    with (tmp_path / "server.log").open("w") as log:
        proc = subprocess.Popen(
            [trustplane_executable(), "serve", "--port", url.rsplit(":", 1)[1]],
            env=local,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(url, proc)
            client = clean_env(tmp_path / "client", TRUSTPLANE_URL=url, TRUSTPLANE_TOKEN=token)
            people = seed(client)  # what a person reads, this time
            again = seed(client)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    assert people.returncode == 0, people.stderr
    assert "Traceback" not in people.stderr
    folder = tmp_path / "client" / "demo"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    released = summary["released"]
    assert released["artifact_digest"] == sha256_of(released["artifact"])
    assert summary["isolation"]["cross_tenant_status"] == 404
    assert not (tmp_path / "client" / "trustplane.db").exists()  # nothing local was touched
    out = people.stdout
    for expected in (
        "denied (HTTP 409)",
        "- TP-FAIRNESS-GAP",
        "- TP-SIGNOFF-MISSING",
        f"release {released['release']}",
        "verified offline",
        "HTTP 404",
        f"export TRUSTPLANE_URL={url} TRUSTPLANE_TOKEN=tp_",
    ):
        assert expected in out, expected
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        "error: tenant 'acme-bank' already exists on the server; the demo seeds a tenant once"
        " (use an empty database to seed again)"
    ]
