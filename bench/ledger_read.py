"""Read-side figures of the ledger benchmark: export, offline verify, proofs.

Every figure comes from the code path users run: ``export_ledger`` (what ``trustplane audit
export`` calls), ``verify_export`` (``trustplane audit verify``, default and ``--strict``),
the service functions the API's proof routes call (a fresh session per proof, as a request
has), and a few proofs over HTTP through the real app in process. Each proof is checked with
the RFC 9162 verifier after it is timed, so a fast wrong answer cannot pass.
"""

from __future__ import annotations

import base64
import hashlib
import random
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from fastapi.testclient import TestClient
from sqlalchemy import text

from ledger_append import CpuClock
from trustplane.api.app import create_app
from trustplane.audit import Origin, merkle, service
from trustplane.audit.export import ExportResult, export_ledger
from trustplane.audit.keys import load_or_create_signer
from trustplane.audit.schemas import ConsistencyProofRead, InclusionProofRead
from trustplane.audit.verify import EVENTS, VerifyReport, verify_export
from trustplane.config import Settings
from trustplane.db.session import is_postgres, make_engine, make_session_factory, scope_to_tenant
from trustplane.identity.actor import Actor

T = TypeVar("T")
LEDGER_NAME = "trustplane"
_READ_BYTES = 1 << 22
WARMUP_PROOFS = 20


@dataclass(frozen=True)
class Latency:
    """Milliseconds per call over ``count`` calls: wall time, and (if measured) the CPU time
    of the caller and its database backend together, which waiting for a busy core does not
    inflate."""

    count: int
    p50_ms: float
    p99_ms: float
    cpu_p50_ms: float | None = None
    cpu_p99_ms: float | None = None

    @classmethod
    def of(cls, seconds: list[float], cpu: list[float] | None = None) -> Latency:
        wall = _percentiles(seconds)
        spent = _percentiles(cpu) if cpu else (None, None)
        return cls(len(seconds), *wall, *spent)


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return 1000 * statistics.median(ordered), 1000 * p99


@dataclass(frozen=True)
class ExportFigures:
    seconds: float
    events: int
    events_bytes: int
    total_bytes: int
    checkpoints: int
    root: str
    digest: str  # SHA-256 of events.jsonl, to compare the backends' exports

    @property
    def bytes_per_event(self) -> float:
        return self.events_bytes / max(self.events, 1)


def export(url: str, tenant_id: str, home: Path, directory: Path) -> ExportFigures:
    """Export as ``trustplane audit export`` does: a reading session, the installation key."""
    engine = make_engine(url)
    signer = load_or_create_signer(home / "ledger.key", LEDGER_NAME)
    try:
        started = time.perf_counter()
        with make_session_factory(engine)() as session:
            scope_to_tenant(session, tenant_id)
            result: ExportResult = export_ledger(session, tenant_id, signer, LEDGER_NAME, directory)
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    total = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
    return ExportFigures(
        seconds=seconds,
        events=result.size,
        events_bytes=result.bytes_written,
        total_bytes=total,
        checkpoints=result.checkpoints,
        root=base64.b64encode(result.root).decode("ascii"),
        digest=_file_sha256(directory / EVENTS),
    )


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_READ_BYTES):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Timed:
    """The best of some runs: wall seconds, and the CPU seconds of that same run."""

    wall: float
    cpu: float


def best_of(repeat: int, work: Callable[[], object]) -> tuple[Timed, object]:
    """Run ``work`` ``repeat`` times; the fastest run's times and the last run's result."""
    best, result = Timed(float("inf"), float("inf")), None
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = work()
        run = Timed(time.perf_counter() - started, time.process_time() - cpu)
        best = min(best, run, key=lambda t: t.wall)
    return best, result


def verify(directory: Path, *, strict: bool, repeat: int) -> tuple[Timed, VerifyReport]:
    """The offline verifier's best run of ``repeat``, and its report."""
    taken, report = best_of(repeat, lambda: verify_export(directory, strict=strict))
    assert isinstance(report, VerifyReport)
    return taken, report


def leaf_hash_floor(directory: Path, repeat: int) -> Timed:
    """Read events.jsonl and hash every leaf (0x00 || line), building no tree and checking
    nothing: the least any Python verifier of this format has to do."""

    def hash_leaves() -> None:
        sha256, rest = hashlib.sha256, b""
        with (directory / EVENTS).open("rb") as handle:
            while block := handle.read(_READ_BYTES):
                lines = (rest + block).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    sha256(b"\x00" + line).digest()

    return best_of(repeat, hash_leaves)[0]


# Proofs through the service functions the API calls.


@dataclass(frozen=True)
class ProofFigures:
    inclusion: Latency
    inclusion_by_id: Latency
    consistency: Latency


def proofs(
    url: str, tenant_id: str, admin_id: str, size: int, count: int, rng: random.Random
) -> ProofFigures:
    """Time ``count`` random inclusion and consistency proofs (and a tenth as many by event
    id) after ``WARMUP_PROOFS`` untimed ones; each opens its own session, as a request does."""
    engine = make_engine(url, pool_size=1)  # one connection, so one backend to account
    factory = make_session_factory(engine)
    actor = Actor(admin_id, "admin", "user", "token", tenant_id, Origin("bench-proofs"))
    with factory() as session:
        backend = session.scalar(text("SELECT pg_backend_pid()")) if is_postgres(session) else None
    clock = CpuClock(backend)
    walls: dict[str, list[float]] = {"inclusion": [], "by_id": [], "consistency": []}
    cpus: dict[str, list[float]] = {kind: [] for kind in walls}

    def timed(kind: str, call: Callable[..., T], *args: object, **kwargs: object) -> T:
        before, started = clock.read(), time.perf_counter()
        with factory() as session:
            scope_to_tenant(session, tenant_id)
            result = call(session, actor, *args, **kwargs)
        walls[kind].append(time.perf_counter() - started)
        after = clock.read()
        cpus[kind].append(after[0] - before[0] + after[1] - before[1])
        return result

    def round_of(count: int) -> None:
        event_ids = []
        for _ in range(count):
            index = rng.randrange(size)
            tree_size = rng.randint(index + 1, size)
            read = timed(
                "inclusion",
                service.inclusion_proof,
                index=index,
                event_id=None,
                tree_size=tree_size,
            )
            check_inclusion(read)
            event_ids.append(read.event_id)
        for event_id in event_ids[: max(count // 10, 1)]:
            by_id = timed(
                "by_id", service.inclusion_proof, index=None, event_id=event_id, tree_size=None
            )
            check_inclusion(by_id)
        for _ in range(count):
            first = rng.randint(1, size)
            proof = timed("consistency", service.consistency_proof, first, rng.randint(first, size))
            check_consistency(proof)

    try:
        round_of(min(WARMUP_PROOFS, count))  # untimed: the first use of a statement compiles it
        for kind in walls:
            walls[kind].clear()
            cpus[kind].clear()
        round_of(count)
    finally:
        engine.dispose()
    figures = {kind: Latency.of(walls[kind], cpus[kind]) for kind in walls}
    return ProofFigures(figures["inclusion"], figures["by_id"], figures["consistency"])


def check_inclusion(read: InclusionProofRead | dict[str, object]) -> None:
    """Raise ProofError unless the inclusion proof verifies (RFC 9162 section 2.1.3.2)."""
    proof = InclusionProofRead.model_validate(read)
    merkle.verify_inclusion(
        merkle.leaf_hash(proof.leaf.encode("utf-8")),
        proof.index,
        proof.tree_size,
        [base64.b64decode(h) for h in proof.audit_path],
        base64.b64decode(proof.root_hash),
    )


def check_consistency(read: ConsistencyProofRead | dict[str, object]) -> None:
    """Raise ProofError unless the consistency proof verifies (RFC 9162 section 2.1.4.2)."""
    proof = ConsistencyProofRead.model_validate(read)
    merkle.verify_consistency(
        proof.first,
        proof.second,
        [base64.b64decode(h) for h in proof.proof],
        base64.b64decode(proof.first_root),
        base64.b64decode(proof.second_root),
    )


def http_proofs(
    url: str, home: Path, token: str, size: int, count: int, rng: random.Random
) -> tuple[Latency, Latency]:
    """A few proofs over HTTP through the real app (in process, the test client's transport):
    authentication, the unit of work, the service and JSON encoding included. The app's first
    request, which warms it up, is not timed."""
    settings = Settings(home=home, database_url=url, checkpoint_interval_seconds=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = TestClient(create_app(settings), raise_server_exceptions=True)
    headers = {"Authorization": f"Bearer {token}"}
    inclusion, consistency = [], []
    with client:
        client.get("/api/v1/audit/checkpoint", headers=headers).raise_for_status()  # not timed
        for _ in range(count):
            index = rng.randrange(size)
            params = {"index": index, "tree_size": rng.randint(index + 1, size)}
            started = time.perf_counter()
            response = client.get("/api/v1/audit/proofs/inclusion", params=params, headers=headers)
            inclusion.append(time.perf_counter() - started)
            response.raise_for_status()
            check_inclusion(response.json())
            first = rng.randint(1, size)
            params = {"first": first, "second": rng.randint(first, size)}
            started = time.perf_counter()
            response = client.get(
                "/api/v1/audit/proofs/consistency", params=params, headers=headers
            )
            consistency.append(time.perf_counter() - started)
            response.raise_for_status()
            check_consistency(response.json())
    return Latency.of(inclusion), Latency.of(consistency)
