"""Tamper-evident ledger benchmark: append rate, offline verification, proofs and export.

For each backend (SQLite in a temporary folder; PostgreSQL in a throw-away database owned by
an ordinary role, dropped at the end) it prints:

1. append events/s with 1 and 8 concurrent writers of one tenant, one event per transaction
   through ``unit_of_work`` + ``trustplane.audit.record`` (what a write request does), and with
   100 events per transaction; beside them the same writes through the bare driver (the
   floor), PostgreSQL writers spread over 8 tenants, and where a one-event append spends the
   critical section that serialises a tenant's writers (ADR 0003);
2. inclusion and consistency proof p50/p99 on a large ledger (``--events``, default
   1,000,000; built through the product and cached, see ``ledger_data.py``) from the service
   functions the API calls, and a few over HTTP through the real app;
3. export time and size per event of that ledger;
4. offline verification events/s of the export (``verify_export``, default and strict) next
   to what hashing every leaf alone costs.

Each timed step starts after ``sync`` has flushed the previous step's writes, so it does not
wait behind them for the disk.

Writers are processes (as ``trustplane serve --workers N`` runs requests), and the 8-writer
scenario also runs as 8 threads of one process (as one server process runs its concurrent
requests): threads share one GIL, processes share the two cores with PostgreSQL. Targets are
printed beside the figures.

    python bench/ledger.py [--quick] [--events N] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, select

from ledger_append import AppendFigures, WriterSpec, run_specs, run_writers
from ledger_data import cache_root, cached_ledger, restore_into_postgres
from ledger_read import (
    export,
    http_proofs,
    leaf_hash_floor,
    proofs,
    verify,
)
from ledger_report import Run, explain, load_average, print_header, print_targets, write_json
from ledger_setup import Database, bootstrap_tenant, database
from trustplane.audit.models import AuditEvent, LedgerHead
from trustplane.db.session import make_engine, make_session_factory, scope_to_tenant

TARGET_VERIFY = 200_000.0  # events/s, offline verify of a 1M-event export
TARGET_PROOF_P99_MS = 5.0  # at 1M events
TARGET_APPEND_PG_8 = 2_000.0  # events/s, PostgreSQL, 8 writers of one tenant
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every scenario ran and every sanity check held, else 1."""
    args = parse_args(argv)
    print_header(args)
    run = Run()
    ledger = cached_ledger(args.events, args.cache_dir, use_cache=not args.rebuild)
    how = "reused from the cache" if ledger.reused else "built now"
    print(
        f"large ledger: {ledger.events:,} events, {how} ({ledger.folder}); built through record()"
        f" in {ledger.build_seconds:.0f} s ({ledger.events / ledger.build_seconds:,.0f} events/s)"
    )
    backends = [b for b in ("sqlite", "postgresql") if args.backend in (b, "both")]
    with tempfile.TemporaryDirectory(prefix="trustplane-bench-ledger-") as name:
        tmp, exports = Path(name), []
        # Appends first: the large export and copy below leave the disk busy writing back.
        settle()
        for backend in backends:
            with on_backend(backend, tmp / f"append-{backend}") as db:
                if db is not None:
                    measure_appends(db, args, run)
        for backend in backends:
            with on_backend(backend, tmp / f"read-{backend}") as db:
                if db is not None:
                    url = prepare_reads(db, ledger)
                    exports.append(measure_reads(db.backend, url, ledger, tmp, args, run))
        if exports:
            settle()
            measure_verify(exports[0], ledger.events, args, run)
    print_targets(run, args.events)
    if args.json_out is not None:
        write_json(args.json_out, args, run)
    print(f"load average at the end: {load_average()}")
    if run.problems:
        print("RESULT: FAIL\n  - " + "\n  - ".join(run.problems))
        return 1
    print("RESULT: PASS (every scenario ran; every proof, export and tree checked out)")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="20,000 events, short windows: under a minute")
    add("--events", type=int, default=None, help="size of the large ledger (default 1,000,000)")
    add("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    add("--seconds", type=float, default=None, help="measured window per append scenario")
    add("--proofs", type=int, default=None, help="random proofs of each kind (default 2,000)")
    add("--cache-dir", type=Path, default=cache_root(), help="where the large ledger is kept")
    add("--rebuild", action="store_true", help="build the large ledger even if it is cached")
    add(
        "--json-out",
        nargs="?",
        type=Path,
        const=RESULTS_DIR / f"ledger-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json",
        help="also write JSON (default: a new file in bench/results/)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.events = args.events or (20_000 if quick else 1_000_000)
    args.seconds = args.seconds or (1.0 if quick else 4.0)
    args.warmup = 0.25 if quick else 1.0
    args.proofs = args.proofs or (200 if quick else 2_000)
    args.http = 10 if quick else 50
    args.repeat = 1 if quick else 3
    if not 100 <= args.events <= 100_000_000:
        parser.error("--events must be between 100 and 100,000,000")
    if not 0 < args.seconds <= 600 or args.proofs < 1:
        parser.error("--seconds must be in (0, 600] and --proofs at least 1")
    return args


@contextlib.contextmanager
def on_backend(backend: str, folder: Path) -> Iterator[Database | None]:
    """The backend's scratch database, or None (with a notice) if PostgreSQL is unreachable."""
    stack = contextlib.ExitStack()
    try:
        db = stack.enter_context(database(backend, folder))
    except psycopg.OperationalError as exc:
        reason = (str(exc).strip() or repr(exc)).splitlines()[0]
        print(f"NOTICE: PostgreSQL skipped (not reachable): {reason}\n")
        yield None
        return
    with stack:
        yield db


def settle() -> None:
    """Flush the writes of earlier steps (a build, an export, a copy) before timing the next,
    so that it does not wait behind them for the disk."""
    os.sync()


def prepare_reads(db: Database, ledger: Any) -> str:
    """The URL of a database holding the large ledger: the cached SQLite file itself, read
    once so that proofs start from a warm page cache as a running server's would, or the
    scratch PostgreSQL database with the cached rows copied in."""
    if db.backend == "sqlite":
        with ledger.database.open("rb") as handle:
            while handle.read(1 << 24):
                pass
        return f"sqlite:///{ledger.database}"
    assert db.admin_url is not None
    seconds = restore_into_postgres(ledger, db.admin_url)
    print(f"== postgresql: large ledger copied in {seconds:.1f} s (COPY as superuser, ANALYZE)")
    return db.url


def measure_appends(db: Database, args: argparse.Namespace, run: Run) -> None:
    print(f"== {db.backend}: append (events/s; 'floor': the same writes through the bare driver)")
    product = bootstrap_tenant(db.url, "append")
    floor = bootstrap_tenant(db.url, "floor")

    def spec(tenant: Any, per_txn: int = 1, is_floor: bool = False) -> WriterSpec:
        return WriterSpec(
            db.url, tenant.id, tenant.admin_id, 0, per_txn, args.warmup, args.seconds, is_floor
        )

    print(f"   {'scenario':<34} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs floor':>8}")
    rows: dict[tuple[int, str], AppendFigures] = {}
    for writers, mode in ((1, "processes"), (8, "processes"), (8, "threads")):
        rows[writers, mode] = best = append_row(db, run, spec(product), writers, mode, args.repeat)
        explain(best)
        if mode == "processes":
            base = append_row(db, run, spec(floor, is_floor=True), writers, mode, 1)
            explain(base)
            print(
                f"   {'record() / floor':<34} {'':>9} {'':>8} {'':>8} {best.rate / base.rate:>8.0%}"
            )
    if db.backend == "postgresql":
        top = max(rows[8, "processes"], rows[8, "threads"], key=lambda f: f.rate)
        run.target(
            f"append >= {TARGET_APPEND_PG_8:,.0f} events/s, PostgreSQL, 8 writers",
            f"{top.rate:,.0f} events/s ({top.mode}; floor {base.rate:,.0f})",
            top.rate >= TARGET_APPEND_PG_8,
        )
    for writers in (1, 8):
        append_row(db, run, spec(product, per_txn=100), writers, "processes", 1)
    if db.backend == "postgresql":
        specs = [replace(spec(bootstrap_tenant(db.url, "spread")), writer=i) for i in range(8)]
        spread = run_specs(specs)
        run.problems += [f"{db.backend} append: {error}" for error in spread.errors]
        run.figures["append"].append({"backend": db.backend, "tenants": 8, "rate": spread.rate})
        print(f"   {'record(), 8 writers on 8 tenants':<34} {spread.rate:>9,.0f}")
    check_contiguous(db.url, product.id, run)


def append_row(
    db: Database,
    run: Run,
    base: WriterSpec,
    writers: int,
    mode: str,
    repeat: int,
) -> AppendFigures:
    """The best of ``repeat`` runs of one scenario, printed and kept."""
    runs = [run_writers(base, writers, mode) for _ in range(repeat)]
    best = max(runs, key=lambda f: f.rate)
    for figures in runs:
        run.problems += [f"{db.backend} append: {error}" for error in figures.errors]
    label = f"{'floor' if base.floor else 'record()'}, {writers} writer{'s' * (writers > 1)}"
    label += f", {base.per_txn}/txn" + (", threads" if mode == "threads" else "")
    others = ", ".join(f"{f.rate:,.0f}" for f in runs) if repeat > 1 else ""
    print(
        f"   {label:<34} {best.rate:>9,.0f} {best.p50_ms:>8.2f} {best.p99_ms:>8.2f}"
        + (f"  (best of {repeat}: {others})" if others else "")
    )
    run.figures["append"].append({"backend": db.backend, **asdict(best), "rate": best.rate})
    return best


def check_contiguous(url: str, tenant_id: str, run: Run) -> None:
    """The writers' ledger: sequence numbers exactly 0..n-1 and the head says n."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            scope_to_tenant(session, tenant_id)
            where = AuditEvent.tenant_id == tenant_id
            count, low, high = session.execute(
                select(func.count(), func.min(AuditEvent.seq), func.max(AuditEvent.seq)).where(
                    where
                )
            ).one()
            size = session.scalar(select(LedgerHead.size).where(LedgerHead.tenant_id == tenant_id))
    finally:
        engine.dispose()
    if not (low == 0 and high == count - 1 and size == count):
        run.problems.append(f"append: {count} events, seq {low}..{high}, head size {size}")


# 2-4. Export, proofs, verification of the large ledger


def measure_reads(
    backend: str,
    url: str,
    ledger: Any,
    tmp: Path,
    args: argparse.Namespace,
    run: Run,
) -> Path:
    """Proofs first, on a quiet disk, then the export, whose folder this returns."""
    settle()
    measure_proofs(backend, url, ledger, args, run)
    directory = measure_export(backend, url, ledger, tmp, run)
    print()
    return directory


def measure_export(backend: str, url: str, ledger: Any, tmp: Path, run: Run) -> Path:
    directory = tmp / f"export-{backend}"
    fig = export(url, ledger.tenant_id, ledger.home, directory)
    print(
        f"== {backend}: export of {fig.events:,} events in {fig.seconds:.1f} s "
        f"({fig.events / fig.seconds:,.0f} events/s): events.jsonl {fig.events_bytes / 1e6:,.1f} MB"
        f" = {fig.bytes_per_event:.0f} bytes/event; with {fig.checkpoints} checkpoints and the key"
        f" {fig.total_bytes / 1e6:,.1f} MB"
    )
    run.figures["export"][backend] = asdict(fig) | {"bytes_per_event": fig.bytes_per_event}
    if fig.events != ledger.events:
        run.problems.append(f"{backend} export holds {fig.events} events, not {ledger.events}")
    digests = {f["digest"] for f in run.figures["export"].values()}
    if len(digests) > 1:
        run.problems.append(f"{backend}: events.jsonl differs from the other backend's export")
    return directory


def measure_proofs(backend: str, url: str, ledger: Any, args: argparse.Namespace, run: Run) -> None:
    rng = random.Random(9162)
    figures = proofs(url, ledger.tenant_id, ledger.admin_id, ledger.events, args.proofs, rng)
    print(f"== {backend}: proofs at {ledger.events:,} events (service functions, a session each)")
    print(f"   {'':<38} {'wall p50':>9} {'p99':>7} {'CPU p50':>9} {'p99':>7}  (ms; CPU: ours + db)")
    rows = [
        ("inclusion, random index and size", figures.inclusion),
        ("inclusion by event id, current size", figures.inclusion_by_id),
        ("consistency, random sizes", figures.consistency),
    ]
    http = http_proofs(url, ledger.home, ledger.token, ledger.events, args.http, rng)
    rows += [("HTTP GET inclusion (real app)", http[0]), ("HTTP GET consistency", http[1])]
    for label, latency in rows:
        cpu = (
            f"{latency.cpu_p50_ms:>9.2f} {latency.cpu_p99_ms:>7.2f}"
            if latency.cpu_p50_ms is not None and latency.cpu_p99_ms is not None
            else f"{'':>17}"
        )
        print(
            f"   {label:<38} {latency.p50_ms:>9.2f} {latency.p99_ms:>7.2f} {cpu}"
            f"  {latency.count:,} proofs, all verified"
        )
    for label, latency in rows[:3]:
        run.target(
            f"{backend} {label.split(',')[0]} proof p99 <= {TARGET_PROOF_P99_MS:g} ms",
            f"{latency.p99_ms:.2f} ms (CPU p99 {latency.cpu_p99_ms or 0:.2f} ms)",
            latency.p99_ms <= TARGET_PROOF_P99_MS,
        )
    run.figures["proofs"][backend] = {label: asdict(latency) for label, latency in rows}


def measure_verify(directory: Path, events: int, args: argparse.Namespace, run: Run) -> None:
    size_mb = (directory / "events.jsonl").stat().st_size / 1e6
    print(f"== offline verify of the {events:,}-event export ({size_mb:,.1f} MB), best of runs")
    default, report = verify(directory, strict=False, repeat=args.repeat)
    strict, strict_report = verify(directory, strict=True, repeat=1)
    floor = leaf_hash_floor(directory, args.repeat)
    print(f"   {'':<38} {'wall s':>7} {'events/s':>10} {'CPU s':>7} {'events/s':>10}")
    for label, taken in (
        ("verify (default)", default),
        ("verify --strict", strict),
        ("floor: hash every leaf, nothing else", floor),
    ):
        print(
            f"   {label:<38} {taken.wall:>7.2f} {events / taken.wall:>10,.0f}"
            f" {taken.cpu:>7.2f} {events / taken.cpu:>10,.0f}"
        )
    for label, rep in (("default", report), ("strict", strict_report)):
        if not rep.ok or rep.events != events:
            run.problems.append(f"verify ({label}) failed: {rep.failures[:1]}")
    run.figures["verify"] = {
        "events": events,
        "default": asdict(default),
        "strict": asdict(strict),
        "leaf_hash_floor": asdict(floor),
    }
    run.target(
        f"offline verify >= {TARGET_VERIFY:,.0f} events/s",
        f"{events / default.wall:,.0f} events/s (strict {events / strict.wall:,.0f})",
        events / default.wall >= TARGET_VERIFY,
    )
    print()


if __name__ == "__main__":
    sys.exit(main())
