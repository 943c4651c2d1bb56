"""Concurrent appenders for the ledger benchmark, and where an append's time goes.

A product writer does what a write request does: one session and one transaction
(``unit_of_work``, which begins as a writer), ``scope_to_tenant``, ``trustplane.audit.record``,
commit. Writers of one tenant queue on the tenant's ledger head (PostgreSQL: its row lock,
taken by the ``FOR UPDATE`` read; SQLite: the database write lock, taken by
``BEGIN IMMEDIATE``) until their commit ends, so the append rate is bounded by the length of
that critical section. Engine events time it: from the statement that takes the lock to the
end of the commit. The floor writers (``ledger_floor.py``) send the same writes through the
bare driver.
"""

from __future__ import annotations

import multiprocessing
import queue
import statistics
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from trustplane.audit import Origin, Target, record
from trustplane.audit.events import EventDetails
from trustplane.db.session import (
    is_postgres,
    make_engine,
    make_session_factory,
    scope_to_tenant,
    unit_of_work,
)
from trustplane.identity.actor import Actor


@dataclass(frozen=True)
class WriterSpec:
    """What one writer does; picklable, so a spawned process can receive it."""

    url: str
    tenant_id: str
    admin_id: str
    writer: int
    per_txn: int
    warmup: float
    seconds: float
    floor: bool = False


@dataclass
class Phases:
    """Summed seconds per phase over the measured one-event transactions of one writer."""

    txns: int = 0
    before_lock: float = 0.0  # session, BEGIN, tenant scope: outside the critical section
    lock_wait: float = 0.0  # the locking statement, queueing included
    held_in_record: float = 0.0  # lock taken -> record() returned: body, JSON, hashes, writes
    commit: float = 0.0  # record() returned -> commit done and session closed
    statements_held: int = 0  # statements sent while holding the lock, the commit excluded

    def add(self, other: Phases) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class WriterResult:
    events: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds per transaction
    phases: Phases = field(default_factory=Phases)
    error: str | None = None
    cpu_events: int = 0  # events over which the CPU below was counted
    cpu_writer: float = 0.0  # seconds of this writer process's CPU
    cpu_server: float = 0.0  # seconds of its PostgreSQL backend's CPU
    cpu_mark: tuple[float, float, int] | None = None  # (writer, server, events) at the start


class CpuClock:
    """CPU seconds of this process and of one PostgreSQL backend on this machine (if any).

    The backend's comes from ``/proc/<pid>/schedstat`` (nanoseconds on a CPU); without it
    (another machine, another OS) the server's share reads as zero.
    """

    def __init__(self, backend_pid: int | None) -> None:
        self._stat = Path(f"/proc/{backend_pid}/schedstat") if backend_pid else None

    def read(self) -> tuple[float, float]:
        server = 0.0
        if self._stat is not None:
            try:
                server = int(self._stat.read_text().split()[0]) / 1e9
            except (OSError, IndexError, ValueError):
                self._stat = None
        return time.process_time(), server


@dataclass
class AppendFigures:
    """One scenario: all writers together."""

    writers: int
    per_txn: int
    mode: str
    events: int
    seconds: float
    p50_ms: float
    p99_ms: float
    phases: Phases
    errors: list[str]
    cpu_writer_us: float | None = None  # CPU per event, writer process (processes mode only)
    cpu_server_us: float | None = None  # CPU per event, its PostgreSQL backend

    @property
    def rate(self) -> float:
        return self.events / self.seconds


class _Probe(threading.local):
    """Per-thread timestamps set by the engine's cursor events."""

    started = 0.0
    lock_at = 0.0
    lock_wait = 0.0
    held_statements = 0


_PROBE = _Probe()


def _is_lock(statement: str) -> bool:
    return statement.startswith("BEGIN IMMEDIATE") or (
        "ledger_heads" in statement and "FOR UPDATE" in statement
    )


def instrument(engine: Engine) -> None:
    """Note when each transaction takes the ledger lock and what it sends while holding it."""

    def before(*_args: Any) -> None:
        _PROBE.started = time.perf_counter()

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        now = time.perf_counter()
        if _is_lock(statement):
            _PROBE.lock_at, _PROBE.lock_wait = now, now - _PROBE.started
        elif _PROBE.lock_at:
            _PROBE.held_statements += 1

    sa_event.listen(engine, "before_cursor_execute", before)
    sa_event.listen(engine, "after_cursor_execute", after)


def _actor(spec: WriterSpec, n: int) -> Actor:
    """The actor of a token-authenticated request, with its own correlation id."""
    origin = Origin(f"bench-{spec.writer}-{n}", "127.0.0.1", "trustplane-bench")
    return Actor(spec.admin_id, "admin", "user", "token", spec.tenant_id, origin)


def _append(session: Session, spec: WriterSpec, n: int) -> None:
    record(
        session,
        _actor(spec, n),
        "bench.append",
        Target("bench", f"w{spec.writer}-{n}"),
        details=EventDetails(payload={"writer": spec.writer, "n": n}),
    )


def product_loop(
    factory: sessionmaker[Session], spec: WriterSpec, clock: CpuClock | None = None
) -> WriterResult:
    """Append through the product until the measured window closes."""
    result, n = WriterResult(), 0
    start = time.perf_counter() + spec.warmup
    end = start + spec.seconds
    while True:
        _PROBE.lock_at, _PROBE.held_statements = 0.0, 0
        began = time.perf_counter()
        with unit_of_work(factory) as session:
            scope_to_tenant(session, spec.tenant_id)
            for _ in range(spec.per_txn):
                _append(session, spec, n)
                n += 1
            recorded = time.perf_counter()
        lock = (_PROBE.lock_at, _PROBE.lock_wait, _PROBE.held_statements)
        if not count(result, spec, began, start, end, (*lock, recorded), clock):
            return result


def count(
    result: WriterResult,
    spec: WriterSpec,
    began: float,
    start: float,
    end: float,
    lock: tuple[float, float, int, float] | None = None,
    clock: CpuClock | None = None,
) -> bool:
    """Count a transaction that ended inside the window (with its phases, given ``lock``:
    when the lock was taken, the wait, the statements sent holding it, when the writes
    ended); False once the window has closed."""
    done = time.perf_counter()
    if clock is not None and (done > end or (done >= start and result.cpu_mark is None)):
        writer, server = clock.read()
        if result.cpu_mark is None:
            result.cpu_mark = (writer, server, result.events)
        else:
            result.cpu_writer = writer - result.cpu_mark[0]
            result.cpu_server = server - result.cpu_mark[1]
            result.cpu_events = result.events - result.cpu_mark[2]
    if done > end:
        return False
    if done >= start:
        result.events += spec.per_txn
        result.latencies.append(done - began)
        if spec.per_txn == 1 and lock is not None and lock[0]:
            lock_at, wait, statements, recorded = lock
            phases = result.phases
            phases.txns += 1
            phases.before_lock += lock_at - wait - began
            phases.lock_wait += wait
            phases.held_in_record += recorded - lock_at
            phases.commit += done - recorded
            phases.statements_held += statements
    return True


# Running writers: processes (the default) or threads.


def _run_one(
    spec: WriterSpec, factory: sessionmaker[Session] | None, clock: CpuClock | None = None
) -> WriterResult:
    if spec.floor:
        from ledger_floor import floor_postgres, floor_sqlite  # it builds on this module

        return floor_sqlite(spec) if spec.url.startswith("sqlite") else floor_postgres(spec)
    assert factory is not None
    return product_loop(factory, spec, clock)


def _process_main(spec: WriterSpec, barrier: Any, results: Any) -> None:
    """A writer process: its own engine (one pooled connection), then the loop."""
    try:
        engine = make_engine(spec.url, pool_size=1)
        instrument(engine)
        factory = make_session_factory(engine)
        with factory() as session:  # connect and warm the pool before the start line
            scope_to_tenant(session, spec.tenant_id)
            pid = session.scalar(text("SELECT pg_backend_pid()")) if is_postgres(session) else None
        barrier.wait(timeout=120)
        results.put(_run_one(spec, factory, CpuClock(pid)))
        engine.dispose()
    except Exception as exc:  # reported by the parent as an error of the scenario
        results.put(WriterResult(error=f"writer {spec.writer}: {type(exc).__name__}: {exc}"))


def run_writers(base: WriterSpec, writers: int, mode: str) -> AppendFigures:
    """Run ``writers`` copies of ``base`` at once (``processes`` or ``threads``) and sum them."""
    return run_specs([replace(base, writer=base.writer + i) for i in range(writers)], mode)


def run_specs(specs: list[WriterSpec], mode: str = "processes") -> AppendFigures:
    """Run one writer per spec at once and sum them (the specs share window and batch)."""
    results = _in_processes(specs) if mode == "processes" else _in_threads(specs, specs[0].url)
    latencies = sorted(x for r in results for x in r.latencies)
    phases = Phases()
    for r in results:
        phases.add(r.phases)
    return AppendFigures(
        writers=len(specs),
        per_txn=specs[0].per_txn,
        mode="floor" if specs[0].floor else mode,
        events=sum(r.events for r in results),
        seconds=specs[0].seconds,
        p50_ms=1000 * statistics.median(latencies) if latencies else float("nan"),
        p99_ms=1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        phases=phases,
        errors=[r.error for r in results if r.error],
        **_cpu_per_event(results) if mode == "processes" else {},
    )


def _cpu_per_event(results: list[WriterResult]) -> dict[str, float]:
    events = sum(r.cpu_events for r in results)
    if not events:
        return {}
    return {
        "cpu_writer_us": 1e6 * sum(r.cpu_writer for r in results) / events,
        "cpu_server_us": 1e6 * sum(r.cpu_server for r in results) / events,
    }


def _in_processes(specs: list[WriterSpec]) -> list[WriterResult]:
    # fork: no engine or connection is open in the parent, and a forked writer starts at once
    methods = multiprocessing.get_all_start_methods()
    context = (
        multiprocessing.get_context("fork")
        if "fork" in methods
        else multiprocessing.get_context("spawn")
    )
    barrier = context.Barrier(len(specs))
    results = context.Queue()
    processes = [
        context.Process(target=_process_main, args=(spec, barrier, results)) for spec in specs
    ]
    for process in processes:
        process.start()
    deadline = 180 + specs[0].warmup + specs[0].seconds
    collected: list[WriterResult] = []
    try:
        for _ in specs:
            collected.append(results.get(timeout=deadline))
    except queue.Empty:
        collected.append(WriterResult(error="a writer process did not report in time"))
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
    return collected


def _in_threads(specs: list[WriterSpec], url: str) -> list[WriterResult]:
    """Threads share one engine and one GIL, as the threads of one server process do."""
    engine = make_engine(url, pool_size=len(specs))
    instrument(engine)
    factory = make_session_factory(engine)
    collected: list[WriterResult] = []

    def work(spec: WriterSpec) -> None:
        try:
            collected.append(_run_one(spec, factory))
        except Exception as exc:
            collected.append(WriterResult(error=f"writer {spec.writer}: {exc}"))

    threads = [threading.Thread(target=work, args=(spec,)) for spec in specs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    return collected
