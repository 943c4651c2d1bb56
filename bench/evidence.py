"""Evidence bundle build and verify time: a release with ~1,000 events in a 1M-event ledger.

The ledger is the cached one ``bench/ledger.py`` uses (``ledger_data.cached_ledger``: built
through ``trustplane.audit.record``, reused while the code that shapes its rows is unchanged),
copied so the cache stays clean. On top of it, through the API (the SDK over an in-process
app), a high-risk credit model is released the governed way: data registered and approved, a
run, a version with fairness evaluations, submit, validate, approve, a denied promotion, a
waiver, a second sign-off, the promotion. The version then carries ``--release-events`` events
in all (tags, each interleaved with an unrelated event, so the release's leaves are spread
over twice as many), and the bundle is measured:

1. **Build**: ``GET /api/v1/releases/{id}/evidence`` (the story from the registry, the model
   card, a fresh checkpoint, every event of the release with its inclusion proof, the
   canonical statement, the DSSE signature), timed ``--runs`` times.
2. **Verify**: ``verify_envelope`` on the bundle's bytes with the pinned PEM key (signature,
   statement, checkpoint, every inclusion proof, internal consistency), timed ``--runs``
   times. Beside it, as peers on the same bytes: securesystemslib's DSSE verification (the
   signature alone) and a bare SHA-256 of the bytes, the floors a full check is measured
   against.

    python bench/evidence.py [--quick] [--events N] [--release-events N] [--runs N]
                             [--backends sqlite,postgresql] [--no-cache]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

from ledger_data import LEDGER_NAME, cache_root, cached_ledger, restore_into_postgres
from ledger_setup import database, pg_admin_url
from report import load_average
from trustplane.api.app import create_app
from trustplane.client import Conflict, TrustplaneClient
from trustplane.config import Settings
from trustplane.evidence import dsse
from trustplane.evidence.verify import verify_envelope

ROLES = {
    "steward": ["data-steward"],
    "trainer": ["trainer"],
    "validator": ["validator"],
    "approver": ["release-approver"],
    "second": ["release-approver"],
    "deployer": ["deployer"],
    "risk": ["risk-officer"],
}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"evidence bench: {args.events:,}-event ledger, release of ~{args.release_events:,} "
        f"events, {args.runs} runs, load average {load_average()}"
    )
    ledger = cached_ledger(args.events, cache_root(), use_cache=not args.no_cache)
    print(f"ledger: {'reused from cache' if ledger.reused else 'built'} ({ledger.folder})")
    problems: list[str] = []
    for backend in args.backends:
        with tempfile.TemporaryDirectory(prefix="trustplane-evidence-bench-") as tmp:
            problems += on_backend(backend, ledger, args, Path(tmp))
    for problem in problems:
        print("problem:", problem)
    print("RESULT:", "FAIL" if problems else "PASS (every bundle verified)")
    return 1 if problems else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="a 20,000-event ledger, 200 release events")
    add("--events", type=int, default=None, help="ledger size (default 1,000,000)")
    add("--release-events", type=int, default=None, help="events of the release (1,000)")
    add("--runs", type=int, default=5)
    add("--backends", default="sqlite", help="sqlite, postgresql or both, comma-separated")
    add("--no-cache", action="store_true", help="rebuild the ledger even if cached")
    args = parser.parse_args(argv)
    args.events = args.events or (20_000 if args.quick else 1_000_000)
    args.release_events = args.release_events or (200 if args.quick else 1_000)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    return args


def on_backend(backend: str, ledger: Any, args: argparse.Namespace, tmp: Path) -> list[str]:
    home = tmp / "home"
    shutil.copytree(ledger.folder / "home", home)
    if backend == "sqlite":
        copy = tmp / "trustplane.db"
        shutil.copyfile(ledger.database, copy)
        return measure(backend, f"sqlite:///{copy}", home, ledger, args)
    with database("postgresql", tmp) as db:
        seconds = restore_into_postgres(ledger, db.admin_url or pg_admin_url())
        print(f"[postgresql] ledger copied in {seconds:.0f} s")
        return measure(backend, db.url, home, ledger, args)


def measure(backend: str, url: str, home: Path, ledger: Any, args: argparse.Namespace) -> list[str]:
    settings = Settings(
        home=home,
        database_url=url,
        ledger_name=LEDGER_NAME,
        checkpoint_interval_seconds=0,
        waiver_sweep_interval_seconds=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        http = TestClient(create_app(settings), raise_server_exceptions=False)
    with http:
        started = time.perf_counter()
        release_id, admin = release(http, ledger.token, args.release_events)
        print(
            f"[{backend}] release {release_id} set up through the API in "
            f"{time.perf_counter() - started:.0f} s"
        )
        pem = admin.evidence_public_key().encode()
        bundle = b""

        def build() -> None:
            nonlocal bundle
            response = http.get(
                f"/api/v1/releases/{release_id}/evidence",
                headers={"Authorization": f"Bearer {ledger.token}"},
            )
            response.raise_for_status()
            bundle = response.content

        build_times = timed(build, args.runs)
    statement = json.loads(base64.b64decode(json.loads(bundle)["payload"]))
    events = len(statement["predicate"]["ledger"]["events"])
    size = statement["predicate"]["ledger"]["tree_size"]
    report = verify_envelope(bundle, pem)
    problems = [] if report.ok else [f"{backend}: {f}" for f in report.failures]
    verify_times = timed(lambda: verify_envelope(bundle, pem), args.runs)
    key = dsse.load_public_pem(pem)
    sslib = SSlibKey(dsse.key_id(key), "ed25519", "ed25519", {"public": dsse.raw_public(key).hex()})
    sslib_times = timed(
        lambda: Envelope.from_dict(json.loads(bundle)).verify([sslib], 1), args.runs
    )
    hash_times = timed(lambda: hashlib.sha256(bundle).digest(), args.runs)
    print(
        f"[{backend}] bundle: {events:,} events with inclusion proofs in a tree of "
        f"{size:,}, {len(bundle) / 1e6:.2f} MB"
    )
    rows = [
        ("build (GET .../evidence)", build_times),
        ("verify (trustplane, all checks)", verify_times),
        ("peer: securesystemslib DSSE only", sslib_times),
        ("floor: sha256 of the bytes", hash_times),
    ]
    base = statistics.median(verify_times)
    print(f"  {'path':<36} {'median s':>9} {'max s':>8} {'vs verify':>10}")
    for name, times in rows:
        middle = statistics.median(times)
        print(f"  {name:<36} {middle:9.3f} {max(times):8.3f} {middle / base:9.2f}x")
    return problems


def timed(work: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return times


def release(http: TestClient, admin_token: str, extra_events: int) -> tuple[str, TrustplaneClient]:
    """The governed release of a high-risk model, through the SDK; returns its id."""
    admin = TrustplaneClient("http://testserver", admin_token, http=http)
    people = {}
    for name, roles in ROLES.items():
        user = admin.create_user(f"{name}-{time.time_ns()}")
        for role in roles:
            admin.grant(user.id, role, "evidence bench")
        token = admin.create_token("bench", principal_id=user.id).token
        people[name] = TrustplaneClient("http://testserver", token, http=http)
    steward, trainer = people["steward"], people["trainer"]
    dataset = steward.register_dataset(f"applications-{time.time_ns()}", namespace="s3://bank")
    data = steward.create_dataset_version(
        dataset.id,
        version="2026-11",
        uri="s3://bank/applications/2026-11",
        digest="sha256:" + hashlib.sha256(b"applications").hexdigest(),
        sensitivity="restricted-personal",
        region="uk-south",
    )
    steward.decide_dataset_version(data.id, "approved", "reviewed for credit modelling")
    run = trainer.record_run(
        {
            "code_repo": "https://git.example/credit",
            "commit_sha": "3f2a9c1" + "0" * 33,
            "env_fingerprint": "sha256:" + "e" * 64,
            "inputs": [data.id],
            "parameters": {"max_depth": 4},
            "metrics": {"auc": 0.91},
        }
    )
    model = trainer.register_model(
        f"credit-{time.time_ns()}",
        owner="credit-risk",
        intended_use="retail credit decisions",
        risk_tier="high",
        out_of_scope_uses=["marketing"],
    )
    evaluations = [
        {"name": "auc-holdout", "passed": True, "value": 0.91, "metric": "auc"},
        {"name": "tpr-f", "passed": True, "value": 0.62, "metric": "tpr", "group": "f"},
        {"name": "tpr-m", "passed": True, "value": 0.81, "metric": "tpr", "group": "m"},
    ]
    version = trainer.create_model_version(
        model.id,
        "sha256:" + hashlib.sha256(b"model").hexdigest(),
        run_id=run.id,
        metrics={"auc": 0.91},
        evaluations=evaluations,
    )
    other = trainer.create_model_version(model.id, "sha256:" + "0" * 64, run_id=run.id)
    for n in range(max(extra_events - 30, 0)):  # the version's own events, spread out
        trainer.set_model_version_tag(version.id, f"note-{n}", "reviewed")
        trainer.set_model_version_tag(other.id, f"note-{n}", "unrelated")
    etag = trainer.get_model_version(version.id).etag
    for who, action in (("trainer", "submit"), ("validator", "validate"), ("approver", "approve")):
        etag = people[who].transition(version.id, action, intent=f"bench {action}", etag=etag).etag
    deployer = people["deployer"]
    try:
        deployer.transition(
            version.id, "promote", intent="Q4 release", etag=etag, environment="prod"
        )
    except Conflict:
        pass  # denied as it should be: the fairness gap, one sign-off missing
    else:
        raise SystemExit("the first promotion was allowed; the scenario needs a denial")
    waiver = trainer.request_waiver(
        version.id,
        "prod",
        ["TP-FAIRNESS-GAP"],
        reason="small group; retraining scheduled",
        compensating_control="monthly review of declines by group",
        expires_at=datetime.now(UTC) + timedelta(days=30),
    )
    people["risk"].approve_waiver(waiver.id, "control adequate")
    people["second"].sign_off(version.id, "prod", comment="evidence reviewed")
    etag = trainer.get_model_version(version.id).etag
    deployer.transition(version.id, "promote", intent="Q4 release", etag=etag, environment="prod")
    [found] = admin.list_releases(model=model.id).items
    return found.id, admin


if __name__ == "__main__":
    sys.exit(main())
