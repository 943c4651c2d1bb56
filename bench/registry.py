"""Model registry write throughput over HTTP: Trustplane next to a real MLflow server.

The benchmark migrates a throw-away backend (SQLite by default), bootstraps a tenant, starts a
real ``trustplane serve``, and gives a service account the trainer and data-steward roles.
It registers a dataset version and a training run that read it (lineage), then, with 1 and
with 8 concurrent keep-alive clients, runs the MLflow-style sequence: each client creates a
model once, then for each version ``POST /models/{id}/versions`` (artifact digest, producing
run: a ``produced`` lineage edge, a permission check and an audit event) and ``PUT`` one tag.
It prints create-version/s (each version counted with its tag) and per-request latencies.

If an ``mlflow`` command is available (``--mlflow-bin``, or beside this interpreter, or on
PATH), the same sequence runs against ``mlflow server`` on SQLite over loopback
(registered-models/create once per client, then model-versions/create with a run id and
model-versions/set-tag), once per ``--mlflow-workers`` setting (default 1 and 4: MLflow's
default of 4 runs uvicorn's multi-worker mode, whose listener leaves Nagle's algorithm on, see
docs/benchmarks.md), and the ratio to MLflow's best rate is printed. Target: Trustplane >= 5x
MLflow with 1 and with 8 clients. Any non-2xx answer counts as an error and fails the run.

    python bench/registry.py [--versions 10000] [--mlflow-versions 500] [--clients 1,8]
                             [--backend sqlite|postgresql] [--workers 2]
                             [--max-concurrent-requests N] [--mlflow-bin PATH]
                             [--mlflow-workers 1,4] [--skip-mlflow] [--impact]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from registry_load import Rate, drive
from servers import (
    HOST,
    Backend,
    BenchError,
    Server,
    postgres_database,
    prepare,
    sqlite_backend,
    start,
    stop,
    trustplane_server,
)

TARGET_RATIO = 5.0
API = "/api/v1"


@dataclass
class Outcome:
    """Rates per system and client count, and what went wrong."""

    trustplane: dict[int, Rate]
    mlflow: dict[int, Rate]
    problems: list[str]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    outcome = Outcome({}, {}, [])
    with tempfile.TemporaryDirectory(prefix="trustplane-registry-bench-") as tmp:
        root = Path(tmp)
        print(f"Registry benchmark: {os.cpu_count()} cores, load avg {_load()}")
        measure_trustplane(args, root, outcome)
        mlflow = find_mlflow(args.mlflow_bin)
        if args.skip_mlflow:
            print("mlflow: skipped (--skip-mlflow)")
        elif mlflow is None:
            print("mlflow: not found (pip install mlflow, or --mlflow-bin PATH); no ratio")
        else:
            measure_mlflow(args, mlflow, root, outcome)
    report(outcome)
    for problem in outcome.problems:
        print("problem:", problem)
    rates = [*outcome.trustplane.values(), *outcome.mlflow.values()]
    failed = outcome.problems or any(r.errors for r in rates)
    print("RESULT:", "FAIL" if failed else "PASS (no errors)")
    return 1 if failed else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add = parser.add_argument
    add("--versions", type=int, default=10_000, help="Trustplane versions per client count")
    add("--mlflow-versions", type=int, default=500, help="MLflow versions per run (default 500)")
    add("--clients", default="1,8", help="concurrent clients (default 1,8)")
    add("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    add("--workers", type=int, default=2, help="trustplane serve --workers (default 2)")
    add(
        "--max-concurrent-requests",
        type=int,
        default=None,
        help="TRUSTPLANE_MAX_CONCURRENT_REQUESTS per worker (default: the product default)",
    )
    add("--mlflow-bin", default=None, help="the mlflow command (default: found on PATH)")
    add(
        "--mlflow-workers",
        default="1,4",
        help="mlflow server --workers settings to try; the best rate counts (default 1,4)",
    )
    add("--skip-mlflow", action="store_true")
    add("--impact", action="store_true", help="also run bench/lineage_impact.py (100k nodes)")
    add(
        "--pg-admin-url",
        default=os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    add("--pg-role", default="trustplane_bench")
    args = parser.parse_args(argv)
    args.clients = sorted({int(c) for c in args.clients.split(",") if c.strip()})
    args.mlflow_workers = sorted({int(w) for w in args.mlflow_workers.split(",") if w.strip()})
    if not args.clients or any(not 1 <= c <= 64 for c in args.clients):
        parser.error("--clients must be between 1 and 64")
    if not 1 <= args.versions <= 1_000_000 or not 1 <= args.mlflow_versions <= 1_000_000:
        parser.error("--versions and --mlflow-versions must be between 1 and 1000000")
    return args


# -- Trustplane -------------------------------------------------------------------------------


def measure_trustplane(args: argparse.Namespace, root: Path, outcome: Outcome) -> None:
    home = root / "trustplane"
    home.mkdir()
    if args.backend == "sqlite":
        run_trustplane(args, sqlite_backend(home), outcome)
        return
    with postgres_database(args.pg_admin_url, args.pg_role) as url:
        run_trustplane(args, prepare("postgresql", home, url), outcome)


def run_trustplane(args: argparse.Namespace, backend: Backend, outcome: Outcome) -> None:
    server = trustplane_server(backend, args.workers, args.max_concurrent_requests)
    try:
        token, run_id = set_up_trustplane(server.url, backend.token)
        admission = args.max_concurrent_requests or "default"
        print(
            f"trustplane serve --workers {args.workers} (max concurrent requests {admission})"
            f" on {backend.name}: {server.url}"
        )
        for clients in args.clients:
            rate = drive(
                clients, args.versions, partial(_tp_worker, server, token, run_id, clients)
            )
            outcome.trustplane[clients] = rate
            print(rate.line(f"trustplane ({backend.name})"))
        outcome.problems += run_impact_hook(server.url, token, args)
    except (BenchError, httpx.HTTPError) as exc:
        outcome.problems.append(f"trustplane: {exc}")
    finally:
        stop(server)


def set_up_trustplane(url: str, admin_token: str) -> tuple[str, str]:
    """A service account with trainer and data-steward roles, a dataset version and a run."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=url + API, headers=admin, timeout=60) as http:
        sa = _ok(http.post("/principals/service-accounts", json={"name": "bench-trainer"}))
        for role in ("trainer", "data-steward"):
            body = {"principal_id": sa["id"], "role": role, "reason": "registry benchmark"}
            _ok(http.post("/bindings", json=body))
        token = _ok(http.post("/tokens", json={"name": "bench", "principal_id": sa["id"]}))["token"]
    with httpx.Client(base_url=url + API, headers=_bearer(token), timeout=60) as http:
        ds = _ok(http.post("/datasets", json={"name": "bench-train", "namespace": "s3://bench"}))
        dv_body = {"version": "1", "uri": "s3://bench/train/1", "digest": _digest("train")}
        dv = _ok(http.post(f"/datasets/{ds['id']}/versions", json=dv_body))
        run_body = {
            "commit_sha": "a" * 40,
            "env_fingerprint": _digest("lock"),
            "inputs": [dv["id"]],
        }
        run = _ok(http.post("/runs", json=run_body))
    return str(token), str(run["id"])


def _tp_worker(
    server: Server, token: str, run_id: str, clients: int, index: int, count: int
) -> Callable[[], tuple[Callable[[int], list[float]], Callable[[], None]]]:
    """Set-up (one model) done before the clock starts; then one version + tag per step."""

    def prepare_client() -> tuple[Callable[[int], list[float]], Callable[[], None]]:
        http = httpx.Client(base_url=server.url + API, headers=_bearer(token), timeout=60)
        model = _ok(http.post("/models", json={"name": f"bench-c{clients}-{index}", "owner": "b"}))
        path = f"/models/{model['id']}/versions"

        def step(k: int) -> list[float]:
            body = {"artifact_digest": _digest(f"{clients}-{index}-{k}"), "run_id": run_id}
            created, took = _timed(http, "POST", path, body)
            tag_path = f"/model-versions/{created['id']}/tags/stage"
            _, took_tag = _timed(http, "PUT", tag_path, {"value": "bench"})
            return [took, took_tag]

        return step, http.close

    return prepare_client


# -- MLflow -----------------------------------------------------------------------------------


def find_mlflow(explicit: str | None) -> str | None:
    if explicit:
        return explicit if Path(explicit).exists() or shutil.which(explicit) else None
    beside = Path(sys.executable).with_name("mlflow")
    return str(beside) if beside.exists() else shutil.which("mlflow")


def measure_mlflow(args: argparse.Namespace, mlflow: str, root: Path, outcome: Outcome) -> None:
    """Each ``--mlflow-workers`` setting in turn; the ratio uses MLflow's best rate."""
    version = _mlflow_version(mlflow)
    for workers in args.mlflow_workers:
        home = root / f"mlflow-w{workers}"
        home.mkdir()
        try:
            server = start(
                f"mlflow server (sqlite, {workers} workers)",
                [
                    mlflow,
                    "server",
                    "--backend-store-uri",
                    f"sqlite:///{home / 'mlflow.db'}",
                    "--default-artifact-root",
                    str(home / "artifacts"),
                    "--workers",
                    str(workers),
                ],
                {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")},
                home / "mlflow.log",
                "/health",
            )
        except BenchError as exc:
            outcome.problems.append(f"mlflow: {exc}")
            continue
        try:
            print(f"mlflow server --workers {workers} on sqlite: {server.url} ({version})")
            run_mlflow(args, server, workers, outcome)
        except (BenchError, httpx.HTTPError) as exc:
            outcome.problems.append(f"mlflow: {exc}")
        finally:
            stop(server)


def run_mlflow(args: argparse.Namespace, server: Server, workers: int, outcome: Outcome) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        run = _ok(http.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"}))
    run_id = run["run"]["info"]["run_id"]
    for clients in args.clients:
        worker = partial(_mlflow_worker, server, run_id, clients, workers)
        rate = drive(clients, args.mlflow_versions, worker)
        print(rate.line(f"mlflow (sqlite, w={workers})"))
        if rate.errors:
            outcome.problems.append(f"mlflow w={workers} c={clients}: {rate.errors} errors")
        best = outcome.mlflow.get(clients)
        if best is None or rate.rate > best.rate:
            outcome.mlflow[clients] = rate


def _mlflow_worker(
    server: Server, run_id: str, clients: int, workers: int, index: int, count: int
) -> Callable[[], tuple[Callable[[int], list[float]], Callable[[], None]]]:
    def prepare_client() -> tuple[Callable[[int], list[float]], Callable[[], None]]:
        http = httpx.Client(base_url=server.url + "/api/2.0/mlflow", timeout=60)
        name = f"bench-w{workers}-c{clients}-{index}"
        _ok(http.post("/registered-models/create", json={"name": name}))

        def step(k: int) -> list[float]:
            body = {"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id}
            created, took = _timed(http, "POST", "/model-versions/create", body)
            number = created["model_version"]["version"]
            tag = {"name": name, "version": number, "key": "stage", "value": "bench"}
            _, took_tag = _timed(http, "POST", "/model-versions/set-tag", tag)
            return [took, took_tag]

        return step, http.close

    return prepare_client


def _mlflow_version(mlflow: str) -> str:
    import subprocess

    done = subprocess.run([mlflow, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "version unknown"


# -- impact hook ------------------------------------------------------------------------------


def run_impact_hook(url: str, token: str, args: argparse.Namespace) -> list[str]:
    """HOOK for the lineage impact-query benchmark (``bench/lineage_impact.py``).

    Called right after the registry phases. If that module defines
    ``run_from_registry(url, token) -> list[str]`` it runs against this server (the graph then
    holds the versions just created) and returns its problems. Otherwise, with ``--impact``,
    its own ``main`` runs (it builds the 100k-node graph itself) on the same backend kind.
    Without either, nothing happens.
    """
    try:
        import lineage_impact
    except ImportError:
        return ["--impact given but bench/lineage_impact.py is missing"] if args.impact else []
    hook: Callable[[str, str], list[str]] | None = getattr(
        lineage_impact, "run_from_registry", None
    )
    if hook is not None:
        return list(hook(url, token))
    if not args.impact:
        return []
    print()
    code = lineage_impact.main(["--backend", args.backend])
    return [] if code == 0 else [f"lineage impact benchmark exited {code}"]


# -- helpers ----------------------------------------------------------------------------------


def report(outcome: Outcome) -> None:
    print()
    print(f"{'clients':>7}  {'trustplane v/s':>15}  {'mlflow v/s':>11}  {'ratio':>7}  target")
    for clients in sorted(outcome.trustplane):
        tp = outcome.trustplane[clients].rate
        ml = outcome.mlflow.get(clients)
        ratio = f"{tp / ml.rate:6.1f}x" if ml and ml.rate else "    n/a"
        mark = "" if not ml else ("met" if tp >= TARGET_RATIO * ml.rate else "MISSED")
        ml_rate = f"{ml.rate:11.1f}" if ml else f"{'n/a':>11}"
        print(f"{clients:>7}  {tp:>15.1f}  {ml_rate}  {ratio}  >= {TARGET_RATIO:g}x {mark}")


def _timed(http: httpx.Client, method: str, path: str, body: Any) -> tuple[Any, float]:
    import time

    began = time.perf_counter()
    response = http.request(method, path, json=body)
    took = time.perf_counter() - began
    return _ok(response), took


def _ok(response: httpx.Response) -> Any:
    if not response.is_success:
        raise BenchError(
            f"{response.request.method} {response.request.url.path}: "
            f"HTTP {response.status_code} {response.text[:300]}"
        )
    return response.json()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


__all__ = ["HOST", "main"]

if __name__ == "__main__":
    sys.exit(main())
