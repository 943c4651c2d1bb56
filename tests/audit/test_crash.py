"""A server killed with SIGKILL in the middle of concurrent writes loses nothing it confirmed.

A real ``trustplane serve`` (uvicorn, two worker processes, periodic checkpoints every second)
runs on a fresh migrated database of each backend. Eight clients create service accounts as
fast as the server answers, and fetch signed checkpoints as a witness would; the whole process
group is killed mid-stream, then the server is started again on the same database. Every
write that got a 2xx must be there with its audit event, a write whose answer was lost must be
all there or not at all, the ledger must stay contiguous, pass ``fsck`` against the witnessed
checkpoints and export to a folder that verifies offline, and the restarted server must go on
appending.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.backends import postgres_database, sqlite_database
from tests.conftest import TenantCtx
from tests.factories import bootstrap_tenant, unique
from tests.processes import clean_env, free_port, trustplane_executable, wait_ready
from trustplane.audit import merkle
from trustplane.audit.checkpoints import origin_for
from trustplane.audit.export import export_ledger
from trustplane.audit.fsck import fsck
from trustplane.audit.keys import load_signer
from trustplane.audit.models import AuditEvent, LedgerHead
from trustplane.audit.notes import Signer
from trustplane.audit.verify import verify_export
from trustplane.db.migrate import upgrade
from trustplane.db.session import make_engine, make_session_factory, scope_to_tenant
from trustplane.identity.models import Principal

pytestmark = pytest.mark.server

WRITERS = 8
CONFIRMED = 120  # confirmed writes before the kill
LEDGER_NAME = "trustplane"


@dataclass
class Attempt:
    """One create request: its name and correlation id, and the id if a 2xx came back."""

    name: str
    correlation_id: str
    status: int | None = None
    principal_id: str | None = None
    error: str | None = None


@dataclass
class Load:
    """What the writers did and saw, shared between their threads."""

    attempts: list[Attempt] = field(default_factory=list)
    witness: list[str] = field(default_factory=list)  # checkpoints the server handed out
    unexpected: list[str] = field(default_factory=list)  # answers no request should get
    lock: threading.Lock = field(default_factory=threading.Lock)

    def confirmed(self) -> list[Attempt]:
        with self.lock:
            return [a for a in self.attempts if a.principal_id is not None]


@dataclass
class Installation:
    home: Path
    url: str
    factory: sessionmaker[Session]


@pytest.fixture
def installation(backend: str, tmp_path: Path) -> Iterator[Installation]:
    """A fresh migrated database of the backend under test, and an empty home."""
    (tmp_path / "db").mkdir()
    databases = postgres_database() if backend == "postgresql" else sqlite_database(tmp_path / "db")
    with databases as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            yield Installation(tmp_path / "home", url, make_session_factory(engine))
        finally:
            engine.dispose()


class ServerProcess:
    """``trustplane serve`` in a process group of its own, so a kill reaches every worker."""

    def __init__(self, inst: Installation, log: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        env = clean_env(
            inst.home,
            TRUSTPLANE_DATABASE_URL=inst.url,
            TRUSTPLANE_CHECKPOINT_INTERVAL_SECONDS="1",
            TRUSTPLANE_LEDGER_NAME=LEDGER_NAME,
        )
        port = self.url.rsplit(":", 1)[1]
        with log.open("a") as out:
            self.proc = subprocess.Popen(
                [trustplane_executable(), "serve", "--port", port, "--workers", "2"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> ServerProcess:
        wait_ready(self.url, self.proc)
        return self

    def kill(self) -> None:
        """SIGKILL the supervisor and its workers at once: no shutdown code runs."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _group_alive(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _group_alive(self.proc.pid), "a worker outlived SIGKILL"

    def stop(self) -> None:
        if _group_alive(self.proc.pid):
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def serve(installation: Installation, tmp_path: Path) -> Iterator[Callable[[], ServerProcess]]:
    """Starts a server on the installation; any still running at the end is stopped."""
    started: list[ServerProcess] = []

    def start() -> ServerProcess:
        started.append(ServerProcess(installation, tmp_path / "server.log"))
        return started[-1].wait_ready()

    yield start
    for server in started:
        server.stop()
    log = tmp_path / "server.log"
    if log.exists():
        assert "Traceback" not in log.read_text(), log.read_text()[-4000:]


def write(url: str, token: str, load: Load, stop: threading.Event, writer: int) -> None:
    """Create service accounts until told to stop or the server goes away; every fifth
    request also fetches the latest checkpoint, as a witness would."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        n = 0
        while not stop.is_set():
            n += 1
            attempt = Attempt(unique(f"sa{writer}"), unique("crash"))
            with load.lock:
                load.attempts.append(attempt)
            try:
                response = http.post(
                    "/api/v1/principals/service-accounts",
                    json={"name": attempt.name},
                    headers={"X-Correlation-ID": attempt.correlation_id},
                )
            except httpx.TransportError as exc:  # the server died under us
                attempt.error = type(exc).__name__
                return
            attempt.status = response.status_code
            if response.status_code != 201:
                load.unexpected.append(f"create: {response.status_code} {response.text}")
                return
            attempt.principal_id = response.json()["id"]
            if n % 5 == 0 and not witness(http, load):
                return


def witness(http: httpx.Client, load: Load) -> bool:
    """Keep the latest checkpoint the server hands out; False once the server is gone."""
    try:
        response = http.get("/api/v1/audit/checkpoint")
    except httpx.TransportError:
        return False
    if response.status_code != 200:
        load.unexpected.append(f"checkpoint: {response.status_code} {response.text}")
        return False
    with load.lock:
        load.witness.append(witness_line(response.json()))
    return True


def witness_line(checkpoint: dict[str, Any]) -> str:
    record = {k: checkpoint[k] for k in ("origin", "size", "note")}
    return json.dumps(record)


def run_writers(
    url: str, token: str, load: Load, *, until: int, kill: ServerProcess | None = None
) -> None:
    """Eight writers until ``until`` writes are confirmed; then ``kill`` the server while
    they are still writing, or stop them."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=write, args=(url, token, load, stop, w)) for w in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(load.confirmed()) < until and time.monotonic() < deadline:
        assert any(t.is_alive() for t in threads), "every writer stopped early"
        time.sleep(0.01)
    if kill is not None:
        kill.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert len(load.confirmed()) >= until


def test_sigkill_during_concurrent_writes_loses_no_confirmed_event(
    installation: Installation, serve: Callable[[], ServerProcess], tmp_path: Path
) -> None:
    inst = installation
    tenant = bootstrap_tenant(inst.factory)
    first = serve()
    load = Load()
    run_writers(first.url, tenant.admin_token, load, until=CONFIRMED, kill=first)
    assert load.unexpected == []
    assert any(a.error for a in load.attempts), "the kill must interrupt requests in flight"
    handed_out = sorted({json.loads(line)["size"] for line in load.witness})
    assert handed_out, "no checkpoint was handed out before the kill"

    second = serve()
    run_writers(second.url, tenant.admin_token, load, until=len(load.confirmed()) + 40)
    assert load.unexpected == []

    assert_every_write_is_recorded_or_absent(inst, tenant, load)
    size = assert_ledger_contiguous(inst, tenant)
    signer = load_signer(inst.home / "ledger.key")
    checked = assert_fsck_passes(inst, tenant, signer, load.witness)
    assert set(handed_out) <= set(checked), "a checkpoint handed out before the kill was lost"
    assert_export_verifies(inst, tenant, signer, load.witness, size, tmp_path / "export")
    assert_the_server_appends_after_the_export(second.url, tenant, size)


def assert_every_write_is_recorded_or_absent(
    inst: Installation, tenant: TenantCtx, load: Load
) -> None:
    """A 2xx write has its principal and its one event; a write whose answer was lost by the
    kill has both or neither."""
    with inst.factory() as session:
        scope_to_tenant(session, tenant.id)
        principals = {
            name: pid
            for name, pid in session.execute(
                select(Principal.name, Principal.id).where(Principal.tenant_id == tenant.id)
            )
        }
        events: dict[str, list[tuple[str, str]]] = {}
        rows = session.execute(
            select(AuditEvent.correlation_id, AuditEvent.action, AuditEvent.target_id).where(
                AuditEvent.tenant_id == tenant.id, AuditEvent.correlation_id.like("crash-%")
            )
        )
        for correlation_id, action, target_id in rows:
            events.setdefault(correlation_id, []).append((action, target_id))
    for attempt in load.attempts:
        created = principals.get(attempt.name)
        recorded = events.get(attempt.correlation_id, [])
        if attempt.principal_id is not None:
            assert created == attempt.principal_id, attempt
            assert recorded == [("principal.create", attempt.principal_id)], attempt
        elif created is None:
            assert recorded == [], attempt
        else:  # committed just before the kill, its answer lost: the event came with it
            assert recorded == [("principal.create", created)], attempt


def assert_ledger_contiguous(inst: Installation, tenant: TenantCtx) -> int:
    with inst.factory() as session:
        scope_to_tenant(session, tenant.id)
        seqs = list(
            session.scalars(
                select(AuditEvent.seq)
                .where(AuditEvent.tenant_id == tenant.id)
                .order_by(AuditEvent.seq)
            )
        )
        head = session.scalar(select(LedgerHead.size).where(LedgerHead.tenant_id == tenant.id))
    assert seqs == list(range(len(seqs)))
    assert head == len(seqs)
    return len(seqs)


def assert_fsck_passes(
    inst: Installation, tenant: TenantCtx, signer: Signer, witness: list[str]
) -> list[int]:
    """fsck passes, every witnessed checkpoint included; returns the stored sizes it checked."""
    with inst.factory() as session:
        scope_to_tenant(session, tenant.id)
        report = fsck(
            session,
            tenant.id,
            witness_lines=witness,
            verifier=signer.verifier(),
            origin=origin_for(LEDGER_NAME, tenant.id),
        )
    assert report.ok, report.problems
    assert set(report.witnessed_checkpoints) == {json.loads(line)["size"] for line in witness}
    return report.checked_checkpoints


def assert_export_verifies(
    inst: Installation,
    tenant: TenantCtx,
    signer: Signer,
    witness: list[str],
    size: int,
    folder: Path,
) -> None:
    with inst.factory() as session:
        scope_to_tenant(session, tenant.id)
        result = export_ledger(session, tenant.id, signer, LEDGER_NAME, folder)
    assert result.size >= size
    (folder.parent / "witness.jsonl").write_text("\n".join(witness) + "\n")
    report = verify_export(
        folder, witness=folder.parent / "witness.jsonl", key=signer.verifier().key_string()
    )
    assert report.ok, report.failures
    assert report.events == result.size
    assert report.witnessed_checkpoints


def assert_the_server_appends_after_the_export(url: str, tenant: TenantCtx, size: int) -> None:
    """One more write lands at the next index and is provably in a freshly signed tree."""
    with httpx.Client(base_url=url, headers=tenant.admin_headers, timeout=30) as http:
        created = http.post("/api/v1/principals/service-accounts", json={"name": unique("sa")})
        assert created.status_code == 201, created.text
        latest = http.post("/api/v1/audit/checkpoints")
        assert latest.status_code == 201, latest.text
        found = http.get("/api/v1/audit/events", params={"target_id": created.json()["id"]}).json()[
            "items"
        ]
        assert len(found) == 1 and found[0]["seq"] >= size
        proof = http.get(
            "/api/v1/audit/proofs/inclusion",
            params={"event_id": found[0]["id"], "tree_size": latest.json()["size"]},
        ).json()
    leaf_hash = merkle.leaf_hash(proof["leaf"].encode("utf-8"))
    merkle.verify_inclusion(
        leaf_hash,
        proof["index"],
        proof["tree_size"],
        [_b64(h) for h in proof["audit_path"]],
        _b64(latest.json()["root_hash"]),
    )


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)
