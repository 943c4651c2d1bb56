"""API throughput and latency of a real ``trustplane serve``, next to a bare FastAPI peer.

For each backend (SQLite in a temporary home; PostgreSQL in a throw-away database owned by an
ordinary role, so that row-level security applies) the benchmark migrates, bootstraps a tenant,
starts ``trustplane serve`` and measures, with 1 and 16 keep-alive clients:

* authenticated reads: ``GET /api/v1/whoami`` and ``GET /api/v1/principals?limit=20``;
* a write: ``POST /api/v1/principals/service-accounts`` (unique names; each also audits);

and the reads again with more worker processes. A bare FastAPI app (``peer_app.py``) served by
the same uvicorn the same way, measured just before each read set-up, gives the framework's
ceiling on this machine; reads are reported as a share of it. Any non-2xx answer is an error,
and a run with errors fails (exit status 1).

    python bench/api.py [--backend sqlite|postgresql|both] [--seconds 5]
                        [--max-concurrent-requests N]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from load import GENERATORS, Load, LoadError, describe, pick_generator, run_load
from report import Row, print_header, print_row, print_table, print_target, write_json
from servers import (
    Backend,
    BenchError,
    Server,
    peer_server,
    postgres_database,
    prepare,
    seed_principals,
    sqlite_backend,
    stop,
    trustplane_server,
)

PEER = ("peer GET /ping", "/ping")
READS = (
    ("read GET /whoami", "/api/v1/whoami"),
    ("read GET /principals", "/api/v1/principals?limit=20"),
)
WRITE = ("write POST /service-accounts", "/api/v1/principals/service-accounts")
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Plan:
    """What to measure, how long and with which generator."""

    clients: list[int]
    read_workers: list[int]
    write_workers: list[int]
    max_concurrent_requests: (
        int | None
    )  # TRUSTPLANE_MAX_CONCURRENT_REQUESTS; None: the product default
    warmup: float
    seconds: float
    generator: str
    seed: int


@dataclass
class Run:
    """What a run collects: the rows and anything that went wrong outside them."""

    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def failures(self) -> list[str]:
        found = list(self.problems)
        for r in self.rows:
            if r.figures.errors:
                found.append(f"{r.scenario} ({r.where()}): {r.figures.errors} errors")
            if r.figures.requests == 0:  # a stalled server answers nothing and errs nothing
                found.append(f"{r.scenario} ({r.where()}): no request completed")
        return found


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every scenario ran without errors, else 1."""
    args = parse_args(argv)
    plan = make_plan(args)
    print_header(describe(plan.generator), plan.warmup, plan.seconds, plan.max_concurrent_requests)
    run = Run()
    with tempfile.TemporaryDirectory(prefix="trustplane-bench-") as tmp:
        root = Path(tmp)
        for name in ("sqlite", "postgresql"):
            if args.backend in (name, "both"):
                run_backend(name, plan, root, args, run)
    print_table(run.rows, plan.max_concurrent_requests)
    print_target(run.rows)
    failures = run.failures()
    if args.json_out is not None:
        meta = {"generator": describe(plan.generator), "plan": asdict(plan)}
        write_json(args.json_out, meta, run.rows, failures)
    print("RESULT:", "FAIL\n  - " + "\n  - ".join(failures) if failures else "PASS (no errors)")
    return 1 if failures else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (see ``--help``)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add = parser.add_argument
    add("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    add("--seconds", type=float, default=5.0, help="measured time per scenario (default 5)")
    add("--warmup", type=float, default=1.0, help="discarded time per scenario (default 1)")
    add("--clients", type=_ints, default=[1, 16], help="concurrent clients (default 1,16)")
    add("--read-workers", type=_ints, default=[1, 2], help="for reads (default 1,2)")
    add("--write-workers", type=_ints, default=[1], help="for writes (default 1)")
    add(
        "--max-concurrent-requests",
        type=int,
        default=None,
        help="TRUSTPLANE_MAX_CONCURRENT_REQUESTS for the servers (default: the product default)",
    )
    add("--generator", choices=GENERATORS, default="auto", help="auto: wrk if installed")
    add("--seed", type=int, default=25, help="service accounts created before reads")
    add(
        "--pg-admin-url",
        default=os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="may create roles and databases; used only to set up and drop the database",
    )
    add("--pg-role", default="trustplane_bench", help="LOGIN NOSUPERUSER NOBYPASSRLS role")
    add(
        "--json-out",
        nargs="?",
        type=Path,
        const=RESULTS_DIR / f"api-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json",
        help="also write JSON (default: a new file in bench/results/)",
    )
    args = parser.parse_args(argv)
    if not (0 < args.seconds <= 600 and 0 <= args.warmup <= 60):
        parser.error("--seconds must be in (0, 600] and --warmup in [0, 60]")
    if not args.clients or any(not 1 <= n <= 256 for n in args.clients):
        parser.error("--clients must be between 1 and 256")
    if any(not 1 <= n <= 16 for n in args.read_workers + args.write_workers):
        parser.error("workers must be between 1 and 16")
    if args.max_concurrent_requests is not None and not 1 <= args.max_concurrent_requests <= 256:
        parser.error("--max-concurrent-requests must be between 1 and 256")
    if not 0 <= args.seed <= 1000:
        parser.error("--seed must be between 0 and 1000")
    return args


def _ints(text: str) -> list[int]:
    return sorted({int(part) for part in text.split(",") if part.strip()})


def make_plan(args: argparse.Namespace) -> Plan:
    """Scenarios from the command line."""
    return Plan(
        clients=args.clients,
        read_workers=args.read_workers,
        write_workers=args.write_workers,
        max_concurrent_requests=args.max_concurrent_requests,
        warmup=args.warmup,
        seconds=args.seconds,
        generator=pick_generator(args.generator),
        seed=args.seed,
    )


def measure_peer(plan: Plan, backend: Backend, workers: int, run: Run) -> dict[int, float]:
    """The bare FastAPI ceiling with ``workers``, measured right before Trustplane's reads."""
    rates: dict[int, float] = {}
    try:
        server = peer_server(workers, backend.home)
    except BenchError as exc:
        run.problems.append(f"peer: {exc}")
        return rates
    try:
        for clients in plan.clients:
            label = f"({backend.name})"
            row = measure(plan, server, Load(PEER[1]), PEER[0], label, clients, workers)
            run.rows.append(row)
            rates[clients] = row.figures.rps
    except LoadError as exc:
        run.problems.append(f"peer: {exc}")
    finally:
        finish(server, run)
    return rates


def run_backend(name: str, plan: Plan, root: Path, args: argparse.Namespace, run: Run) -> None:
    """Prepare backend ``name`` and measure it; a backend that cannot run is reported."""
    home = root / name
    home.mkdir()
    try:
        if name == "sqlite":
            measure_backend(sqlite_backend(home), plan, run)
            return
        try:
            with postgres_database(args.pg_admin_url, args.pg_role) as url:
                measure_backend(prepare(name, home, url), plan, run)
        except psycopg.OperationalError as exc:
            reason = (str(exc).strip() or repr(exc)).splitlines()[0]
            print(f"NOTICE: PostgreSQL skipped (not reachable or not usable): {reason}\n")
    except (BenchError, LoadError) as exc:
        run.problems.append(f"{name}: {exc}")
        print(f"ERROR ({name}): {exc}\n")


def measure_backend(backend: Backend, plan: Plan, run: Run) -> None:
    """Reads and writes against one backend, one server per worker count, reads first."""
    authorization = f"Bearer {backend.token}"
    tag = secrets.token_hex(3)
    for index, workers in enumerate(sorted(set(plan.read_workers) | set(plan.write_workers))):
        reads = workers in plan.read_workers
        peers = measure_peer(plan, backend, workers, run) if reads else {}
        server = trustplane_server(backend, workers, plan.max_concurrent_requests)
        try:
            if index == 0:
                seed_principals(server, backend.token, plan.seed, f"seed-{tag}")
            if reads:
                for scenario, path in READS:
                    for clients in plan.clients:
                        load = Load(path, authorization=authorization)
                        row = measure(plan, server, load, scenario, backend.name, clients, workers)
                        peer = peers.get(clients)
                        row.ratio_to_peer = row.figures.rps / peer if peer else None
                        row.authenticated_read = True
                        run.rows.append(row)
            if workers in plan.write_workers:
                for clients in plan.clients:
                    name = f"sa-{tag}-w{workers}c{clients}-{{seq}}"
                    load = Load(WRITE[1], json.dumps({"name": name}), authorization)
                    run.rows.append(
                        measure(plan, server, load, WRITE[0], backend.name, clients, workers)
                    )
        finally:
            finish(server, run)


def measure(
    plan: Plan, server: Server, load: Load, scenario: str, backend: str, clients: int, workers: int
) -> Row:
    """Run one scenario and print its line (and error samples) as soon as it is known."""
    figures = run_load(plan.generator, server.url, load, clients, plan.warmup, plan.seconds)
    row = Row(scenario, backend, clients, workers, figures)
    print_row(row)
    return row


def finish(server: Server, run: Run) -> None:
    """Stop the server; an unclean exit is a problem worth reporting, with its log."""
    code = stop(server)
    if code != 0:
        run.problems.append(f"{server.label} did not stop cleanly (exit status {code})")
        print(f"    {server.label} log tail:\n{server.log_tail()}")


if __name__ == "__main__":
    sys.exit(main())
