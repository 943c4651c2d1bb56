"""Impact-query latency over a 100,000-node lineage graph, on SQLite and PostgreSQL.

The graph (see ``lineage_graph.py``: 100 domains of 1,000 nodes, 270,000 edges) is bulk
inserted into a freshly migrated database, in one tenant, and analysed as a live database
would be. Each query then runs as the API runs it (a fresh session scoped to the tenant, the
lineage service function, the JSON of its answer, then close), ``--samples`` times over
randomly chosen roots after one warm-up run.

* impact: ``lineage impact dataset:NS:NAME``, the first page (50 nodes, id order) of
  everything derived at any depth, with the totals per node kind and of production pointers
  over the whole answer; from one raw dataset of 50 versions it reaches about 900 nodes, 250
  of them model versions;
* impact-mv: the same with ``--kind model_version`` (the first 50 of the 250 model versions);
* downstream: ``lineage downstream dataset:NS:NAME`` (depth 20, node list capped at 500);
* deprecated: ``lineage deprecated-features`` (the first page of 50 model versions built on
  any of the 300 deprecated feature versions, over the whole graph).

Figures per query: p50 and p99 of wall-clock milliseconds, and the mean CPU milliseconds of
this process (SQLite's work included) and, on PostgreSQL, of the server backend that ran the
query (read from ``/proc/<pid>/schedstat`` when the server runs on this machine). CPU time is
what a query costs; wall time on a shared, loaded machine also holds the waits for a core.

    python bench/lineage_impact.py [--backend sqlite|postgresql|both] [--samples 200]
                                   [--domains 100] [--pg-admin-url URL]

``measure(database_url)`` does the same on a migrated database and returns the figures, for
``bench/registry.py``. The exit status is 1 when a p99 misses the target.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.orm import Session, sessionmaker

from lineage_graph import NODES_PER_DOMAIN, Graph, build
from servers import BenchError, postgres_database
from trustplane.audit import Origin
from trustplane.db.migrate import upgrade
from trustplane.db.session import (
    is_postgres,
    make_engine,
    make_session_factory,
    scope_to_tenant,
)
from trustplane.identity.actor import Actor
from trustplane.lineage import attention, queries
from trustplane.lineage.impact import impact as impact_of
from trustplane.lineage.schemas import AffectedVersion
from trustplane.paging import Page

TARGET_P99_MS = 50.0
DEFAULT_PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
BENCH_ROLE = "trustplane_bench"


@dataclass
class Figures:
    """Latency of one query kind: milliseconds, and the size of a typical answer."""

    query: str
    backend: str
    samples: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu_ms: float  # mean CPU of this process per query (SQLite's work included)
    server_cpu_ms: float | None  # mean CPU of the PostgreSQL backend per query, if measurable
    reached: int

    def line(self) -> str:
        verdict = "ok" if self.p99_ms <= TARGET_P99_MS else "OVER TARGET"
        server = "" if self.server_cpu_ms is None else f" + server {self.server_cpu_ms:5.1f}"
        return (
            f"  {self.backend:<10} {self.query:<10} p50 {self.p50_ms:6.1f} ms  "
            f"p99 {self.p99_ms:6.1f} ms (target <= {TARGET_P99_MS:.0f}: {verdict:<11})  "
            f"max {self.max_ms:6.1f} ms  cpu/query {self.cpu_ms:5.1f}{server} ms  "
            f"({self.samples} queries, ~{self.reached} nodes reached)"
        )


class ServerClock:
    """CPU seconds spent by the PostgreSQL backend behind a session, from
    ``/proc/<pid>/schedstat`` (nanoseconds on a CPU). None on SQLite, or when the server runs
    on another machine."""

    @staticmethod
    def read(session: Session) -> float | None:
        if not is_postgres(session):
            return None
        info = getattr(session.connection().connection.dbapi_connection, "info", None)
        pid = getattr(info, "backend_pid", None)
        try:
            return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
        except (OSError, IndexError, ValueError):
            return None


def _timed(
    factory: sessionmaker[Session], actor: Actor, call: Callable[[Session, Actor], int]
) -> tuple[float, float, float | None, int]:
    """Wall-clock, process CPU and server CPU milliseconds of one query, and the size of its
    answer (the server is read after the session is scoped, so that round trip is left out)."""
    started, cpu = time.perf_counter(), time.process_time()
    session = factory()
    try:
        scope_to_tenant(session, actor.tenant_id)
        server = ServerClock.read(session)
        reached = call(session, actor)
        after = ServerClock.read(session)
        session.rollback()
    finally:
        session.close()
    wall, mine = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    spent = None if server is None or after is None else (after - server) * 1000
    return wall, mine, spent, reached


def _queries(graph: Graph, rng: random.Random) -> dict[str, Callable[[Session, Actor], int]]:
    def impact(session: Session, actor: Actor) -> int:
        found = impact_of(session, actor, rng.choice(graph.datasets), limit=50)
        found.model_dump_json()  # the route answers with this JSON
        return sum(found.counts.values())

    def impact_versions(session: Session, actor: Actor) -> int:
        found = impact_of(
            session, actor, rng.choice(graph.datasets), kind="model_version", limit=50
        )
        found.model_dump_json()
        return found.counts.get("model_version", 0)

    def downstream(session: Session, actor: Actor) -> int:
        found = queries.walk_graph(
            session, actor, rng.choice(graph.datasets), "downstream", 20, 500
        )
        found.model_dump_json()
        return len(found.nodes)

    def deprecated(session: Session, actor: Actor) -> int:
        items, nxt = attention.on_deprecated_features(session, actor, None, None, 50)
        Page[AffectedVersion](items=items, next_cursor=nxt).model_dump_json()
        return len(items)

    return {
        "impact": impact,
        "impact-mv": impact_versions,
        "downstream": downstream,
        "deprecated": deprecated,
    }


def time_queries(
    factory: sessionmaker[Session], graph: Graph, backend: str, samples: int, seed: int = 11
) -> list[Figures]:
    """p50/p99 and mean CPU of each query kind over ``samples`` runs (after one warm-up)."""
    actor = Actor.local_system(Origin("bench-lineage"), graph.tenant_id)
    rng = random.Random(seed)
    gc.collect()  # what the server does once started (see api/app.py): full collections
    gc.freeze()  # then scan only what requests create, not every module and table
    out = []
    for name, call in _queries(graph, rng).items():
        _timed(factory, actor, call)
        runs = [_timed(factory, actor, call) for _ in range(samples)]
        times = sorted(ms for ms, _, _, _ in runs)
        server = [c for _, _, c, _ in runs if c is not None]
        out.append(
            Figures(
                query=name,
                backend=backend,
                samples=samples,
                p50_ms=statistics.median(times),
                p99_ms=times[min(len(times) - 1, round(0.99 * (len(times) - 1)))],
                max_ms=times[-1],
                cpu_ms=statistics.mean(c for _, c, _, _ in runs),
                server_cpu_ms=statistics.mean(server) if len(server) == len(runs) else None,
                reached=round(statistics.median(r for _, _, _, r in runs)),
            )
        )
    return out


def measure(
    database_url: str, *, backend: str | None = None, domains: int = 100, samples: int = 200
) -> tuple[Graph, list[Figures]]:
    """Build the graph in a migrated database (a new tenant) and time the impact queries."""
    engine = make_engine(database_url)
    try:
        factory = make_session_factory(engine)
        graph = build(factory, domains)
        name = backend or engine.dialect.name
        return graph, time_queries(factory, graph, name, samples)
    finally:
        engine.dispose()


def _databases(which: str, admin_url: str) -> Iterator[tuple[str, str]]:
    if which in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="tp-lineage-bench-") as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            upgrade(url)
            yield "sqlite", url
    if which in ("postgresql", "both"):
        try:
            with postgres_database(admin_url, BENCH_ROLE) as url:
                upgrade(url)
                yield "postgresql", url
        except psycopg.OperationalError as exc:
            print(f"  postgresql skipped: cannot reach {admin_url} ({exc})".rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--domains", type=int, default=100, help="1,000 nodes each.")
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN)
    args = parser.parse_args(argv)
    print("Trustplane lineage impact benchmark")
    print(f"  target    : p99 <= {TARGET_P99_MS:.0f} ms at {args.domains * NODES_PER_DOMAIN} nodes")
    print(f"  machine   : {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    results: list[Figures] = []
    try:
        for backend, url in _databases(args.backend, args.pg_admin_url):
            graph, figures = measure(
                url, backend=backend, domains=args.domains, samples=args.samples
            )
            print(
                f"  {backend:<10} graph: {graph.nodes} nodes, {graph.edges} edges, "
                f"built in {graph.build_seconds:.1f} s"
            )
            for row in figures:
                print(row.line())
            results += figures
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"  machine   : load average {os.getloadavg()[0]:.2f} at the end")
    return 0 if all(r.p99_ms <= TARGET_P99_MS for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
