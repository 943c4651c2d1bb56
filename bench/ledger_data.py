"""The large ledger the read-side figures need, built through the product and cached.

The ledger is built in SQLite by ``trustplane.audit.record`` in transactions of
``BUILD_BATCH`` events (the fastest the product allows: one head lock per transaction), with
a checkpoint signed every tenth of the way, as a server's periodic checkpoints would. The
finished database, the signing key and a small ``ledger.json`` are kept in a cache folder
named after the code that shaped their rows (the audit modules that write them, the
migrations and this file) and the event count, so a second run reuses them and a change to
that code rebuilds.

PostgreSQL gets the same rows copied from the cached SQLite file (``COPY``, as the database
superuser, because ``COPY FROM`` refuses tables under row-level security for other roles),
then ``ANALYZE``: the proofs and the export then read exactly the ledger the product wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import trustplane
from ledger_setup import bootstrap_tenant, sqlite_database
from trustplane.audit import Origin, Target, record
from trustplane.audit.checkpoints import create_checkpoint
from trustplane.audit.events import EventDetails
from trustplane.audit.keys import load_or_create_signer
from trustplane.audit.models import LedgerHead
from trustplane.db.session import make_engine, make_session_factory, scope_to_tenant, unit_of_work
from trustplane.identity.actor import Actor

LEDGER_NAME = "trustplane"
_ROW_SHAPERS = ("canonical", "checkpoints", "events", "keys", "merkle", "models", "notes")
BUILD_BATCH = 5_000
CHECKPOINTS = 10
_ACTIONS = (
    ("model.register", "model_version", "mv"),
    ("model.approve", "model_version", "mv"),
    ("dataset.register", "dataset_version", "dv"),
    ("run.record", "run", "run"),
    ("principal.create", "principal", "pr"),
)


@dataclass
class BigLedger:
    """A cached ledger: where it is, whose it is and how it was made."""

    folder: Path
    events: int
    tenant_id: str
    admin_id: str
    token: str
    build_seconds: float
    built_at: str
    reused: bool = False

    @property
    def database(self) -> Path:
        return self.folder / "trustplane.db"

    @property
    def home(self) -> Path:
        return self.folder / "home"


def cache_root() -> Path:
    """``$BENCH_CACHE_DIR``, else ``trustplane-bench-ledger`` in the temporary directory."""
    configured = os.environ.get("BENCH_CACHE_DIR")
    return (
        Path(configured) if configured else Path(tempfile.gettempdir()) / "trustplane-bench-ledger"
    )


def code_version() -> str:
    """A digest of the code that decides the ledger's rows (how events, nodes, heads and
    checkpoints are written, the schema, this builder): change it and the cache rebuilds."""
    package = Path(trustplane.__file__).parent
    audit = package / "audit"
    files = sorted(
        [
            *(audit / f"{name}.py" for name in _ROW_SHAPERS),
            *(package / "db" / "migrations" / "versions").glob("*.py"),
            Path(__file__),
        ]
    )
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cached_ledger(events: int, root: Path, use_cache: bool) -> BigLedger:
    """The ledger of ``events`` events: from the cache when it holds one for this code."""
    folder = root / f"ledger-{events}-{code_version()}"
    meta = folder / "ledger.json"
    if use_cache and meta.is_file():
        fields = json.loads(meta.read_text())
        ledger = BigLedger(folder=folder, **fields)
        ledger.reused = True
        return ledger
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"building-{events}-", dir=root))
    try:
        ledger = build(building, events)
        if folder.exists():
            shutil.rmtree(folder)
        building.rename(folder)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    for stale in root.glob(f"ledger-{events}-*"):  # the same size, built by older code
        if stale != folder:
            shutil.rmtree(stale, ignore_errors=True)
    ledger.folder = folder
    fields = asdict(ledger)
    for transient in ("folder", "reused"):
        del fields[transient]
    meta.write_text(json.dumps(fields, indent=2) + "\n")
    return ledger


def build(folder: Path, events: int) -> BigLedger:
    """Bootstrap a tenant and record events until its ledger holds exactly ``events``."""
    with sqlite_database(folder) as db:
        tenant = bootstrap_tenant(db.url, "big")
        signer = load_or_create_signer(folder / "home" / "ledger.key", LEDGER_NAME)
        engine = make_engine(db.url)
        factory = make_session_factory(engine)
        actor = Actor(tenant.admin_id, "admin", "user", "token", tenant.id, Origin("bench"))
        started = time.perf_counter()
        size = _size(factory, tenant.id)
        every = max(events // CHECKPOINTS, 1)
        while size < events:
            with unit_of_work(factory) as session:
                scope_to_tenant(session, tenant.id)
                for n in range(size, min(size + BUILD_BATCH, events)):
                    _record_one(session, actor, n)
                    if (n + 1) % every == 0:
                        create_checkpoint(session, tenant.id, signer, LEDGER_NAME)
                size = min(size + BUILD_BATCH, events)
            _progress(size, events, started)
        engine.dispose()
    return BigLedger(
        folder=folder,
        events=events,
        tenant_id=tenant.id,
        admin_id=tenant.admin_id,
        token=tenant.token,
        build_seconds=time.perf_counter() - started,
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def _size(factory: sessionmaker[Session], tenant_id: str) -> int:
    with factory() as session:
        scope_to_tenant(session, tenant_id)
        size = session.scalar(select(LedgerHead.size).where(LedgerHead.tenant_id == tenant_id))
        return int(size or 0)


def _record_one(session: Session, actor: Actor, n: int) -> None:
    """One event shaped like a request's: a lifecycle verb on a digest-addressed target."""
    action, kind, prefix = _ACTIONS[n % len(_ACTIONS)]
    digest = hashlib.sha256(n.to_bytes(8, "big")).hexdigest()
    origin = Origin(f"req-{n:026d}", "10.0.0.7", "trustplane-cli/0.1 python-httpx/0.28")
    record(
        session,
        replace(actor, origin=origin),
        action,
        Target(kind, f"{prefix}_{n:026d}", f"{kind}-{n % 997}"),
        details=EventDetails(
            environment="prod" if n % 3 == 0 else None,
            digests=[f"sha256:{digest}"],
            payload={"version": n % 50 + 1, "state": "registered"},
        ),
    )


def _progress(size: int, events: int, started: float) -> None:
    if size == events or size % 100_000 < BUILD_BATCH:
        rate = size / max(time.perf_counter() - started, 1e-9)
        print(f"    built {size:,} of {events:,} events ({rate:,.0f} events/s)", flush=True)


# PostgreSQL: the same rows, copied.


def restore_into_postgres(ledger: BigLedger, admin_url: str) -> float:
    """Copy every non-empty table of the cached SQLite ledger into a migrated PostgreSQL
    database (``admin_url`` reaches it as a superuser); returns the seconds it took."""
    started = time.perf_counter()
    lite = create_engine(f"sqlite:///{ledger.database}")
    metadata = MetaData()
    metadata.reflect(lite)
    lite.dispose()
    source = sqlite3.connect(ledger.database)
    libpq = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(libpq) as target:
            target.execute("SET TIME ZONE 'UTC'")  # SQLite keeps UTC times without an offset
            for table in metadata.sorted_tables:
                if table.name != "alembic_version":
                    _copy_table(source, target, table.name, [c.name for c in table.columns])
            target.commit()
            target.autocommit = True
            target.execute("ANALYZE")
    finally:
        source.close()
    return time.perf_counter() - started


def _copy_table(
    source: sqlite3.Connection, target: psycopg.Connection, table: str, columns: list[str]
) -> None:
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    query = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)
    rows = source.execute(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608
    with target.cursor().copy(query) as copy:
        for row in rows:
            copy.write_row(row)


if __name__ == "__main__":  # build (or find) the cache on its own: python bench/ledger_data.py N
    big = cached_ledger(int(sys.argv[1]), cache_root(), use_cache=True)
    print(big)
