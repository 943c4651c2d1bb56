"""Printing and saving the API benchmark's figures."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from load import Figures
from trustplane.config import Settings

TARGET_READS_PER_SECOND = 1000.0


@dataclass
class Row:
    """One measured scenario, as printed in the table and written to JSON."""

    scenario: str
    backend: str
    clients: int
    workers: int
    figures: Figures
    ratio_to_peer: float | None = None
    authenticated_read: bool = False

    def where(self) -> str:
        return f"{self.backend}, {self.clients} clients, {self.workers} workers"


def threads_note(max_concurrent_requests: int | None) -> str:
    """The worker threads each Trustplane process runs database work in, and where from."""
    if max_concurrent_requests is None:
        default = Settings.model_fields["max_concurrent_requests"].default
        return f"{default} (product default; TRUSTPLANE_MAX_CONCURRENT_REQUESTS unset)"
    return (
        f"{max_concurrent_requests} (TRUSTPLANE_MAX_CONCURRENT_REQUESTS, --max-concurrent-requests)"
    )


def print_header(
    generator: str, warmup: float, seconds: float, max_concurrent_requests: int | None
) -> None:
    """Machine, versions, server and generator set-up, so figures can be compared."""
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    http = "httptools" if find_spec("httptools") else "h11"
    print("Trustplane API benchmark")
    print(f"  machine   : {os.cpu_count()} cores, {platform.machine()}, {platform.system()}")
    print(
        f"  software  : Python {platform.python_version()}, trustplane {version('trustplane')}, "
        f"fastapi {version('fastapi')}, uvicorn {version('uvicorn')} ({loop} loop, {http})"
    )
    print("  server    : trustplane serve --workers N; peer_app.py served the same way")
    print(f"  admission : {threads_note(max_concurrent_requests)} per Trustplane worker process")
    print(f"  generator : {generator}")
    print(f"  timing    : {warmup:g}s warm-up + {seconds:g}s measured per scenario")
    print(f"  load avg  : {load_average()} (other work on the machine skews every figure)")
    print()


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as a reminder of how busy the machine was."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def print_row(row: Row) -> None:
    """One line as soon as a scenario is measured, with its error samples."""
    f = row.figures
    print(
        f"{row.scenario:<30} {row.backend:<12} c={row.clients:<3} w={row.workers:<3} "
        f"{f.rps:>9.1f} req/s  p50 {f.p50_ms:>8.2f} ms  p99 {f.p99_ms:>8.2f} ms  "
        f"errors {f.errors}"
    )
    for sample in f.error_samples:
        print(f"    error: {sample}")


def print_table(rows: list[Row], max_concurrent_requests: int | None) -> None:
    """The compact summary table, headed by the worker threads Trustplane ran with."""
    header = (
        f"{'scenario':<30} {'backend':<12} {'clients':>7} {'workers':>7} {'req/s':>9} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'vs peer':>7} {'gen cpu':>7}"
    )
    print()
    print(f"concurrent requests per Trustplane process: {threads_note(max_concurrent_requests)}")
    print(header)
    print("-" * len(header))
    for r in rows:
        f = r.figures
        ratio = f"{r.ratio_to_peer:.0%}" if r.ratio_to_peer is not None else ""
        print(
            f"{r.scenario:<30} {r.backend:<12} {r.clients:>7} {r.workers:>7} {f.rps:>9.1f} "
            f"{f.p50_ms:>8.2f} {f.p99_ms:>8.2f} {f.errors:>6} {ratio:>7} "
            f"{f.generator_cpu:>7.2f}"
        )
    print(f"load average now: {load_average()}")
    print(
        "vs peer: Trustplane's rate as a share of the bare FastAPI app's (the peer rows just\n"
        "above, same clients and workers). gen cpu: cores the load generator itself used."
    )
    print()


def print_target(rows: list[Row]) -> None:
    """Say plainly whether any configuration reached the authenticated-read target."""
    reads = [r for r in rows if r.authenticated_read and r.figures.errors == 0]
    print(f"target >= {TARGET_READS_PER_SECOND:.0f} authenticated reads/s on this machine:")
    if not reads:
        print("  no error-free authenticated read was measured")
        return
    hits = [r for r in reads if r.figures.rps >= TARGET_READS_PER_SECOND]
    for r in hits:
        print(f"  reached: {r.scenario} ({r.where()}): {r.figures.rps:.0f}/s")
    if not hits:
        best = max(reads, key=lambda r: r.figures.rps)
        print(
            f"  NOT reached by any configuration measured. Best: {best.figures.rps:.0f}/s, "
            f"{best.figures.rps / TARGET_READS_PER_SECOND:.0%} of the target\n"
            f"  ({best.scenario}, {best.where()})."
        )
    peers = [r for r in rows if r.scenario.startswith("peer")]
    if peers:
        top = max(peers, key=lambda r: r.figures.rps)
        print(
            f"  Framework ceiling (bare FastAPI): {top.figures.rps:.0f}/s ({top.clients} clients, "
            f"{top.workers} workers)."
        )
    print()


def write_json(path: Path, meta: dict[str, Any], rows: list[Row], failures: list[str]) -> None:
    """Everything measured, with the set-up, as one JSON document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "api",
        "finished_at": datetime.now(UTC).isoformat(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        **meta,
        "rows": [asdict(r) for r in rows],
        "failures": failures,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {path}")
