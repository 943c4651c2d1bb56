"""The floor of the append figures: the product's writes through the bare driver.

Same tables, same lock (``FOR UPDATE`` on the head row; ``BEGIN IMMEDIATE``), same row shapes
and Merkle nodes, the same single statement on PostgreSQL, but no ORM, no session and no
canonical JSON check: what the database and driver allow for this design on this machine.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from ledger_append import CpuClock, WriterResult, WriterSpec, count
from trustplane.audit import merkle
from trustplane.db.base import new_id

_EVENT_COLUMNS = (
    "tenant_id, seq, id, occurred_at, actor_id, action, target_kind, target_id, outcome, "
    "correlation_id, leaf"
)


# PostgreSQL: the writes in one statement, as record() sends them.
_PG_APPEND = (
    f"WITH new_event AS (INSERT INTO audit_events ({_EVENT_COLUMNS}) VALUES "  # noqa: S608
    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)), new_nodes AS (INSERT INTO ledger_nodes"
    " (tenant_id, level, idx, hash) SELECT %s, level, idx, hash FROM unnest(%s::smallint[],"
    " %s::bigint[], %s::bytea[]) AS node(level, idx, hash))"
    " UPDATE ledger_heads SET size = %s, frontier = %s WHERE tenant_id = %s"
)


def _floor_leaf(spec: WriterSpec, event_id: str, seq: int, n: int, now: datetime) -> str:
    """An event body of the product's shape and size (sorted keys, not RFC 8785 checked)."""
    body = {
        "v": 1,
        "id": event_id,
        "tenant": spec.tenant_id,
        "seq": seq,
        "time": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": {"id": spec.admin_id, "name": "admin", "kind": "user", "auth": "token"},
        "environment": None,
        "action": "bench.append",
        "target": {"kind": "bench", "id": f"w{spec.writer}-{n}", "name": None},
        "digests": [],
        "outcome": "allowed",
        "reason": None,
        "correlation_id": f"bench-{spec.writer}-{n}",
        "intent": None,
        "origin": {"ip": "127.0.0.1", "user_agent": "trustplane-bench"},
        "payload": {"writer": spec.writer, "n": n},
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _floor_rows(
    spec: WriterSpec, size: int, frontier: bytes, n: int
) -> tuple[tuple[Any, ...], bytes, list[tuple[str, int, int, bytes]]]:
    now, event_id = datetime.now(UTC), new_id("evt")
    leaf = _floor_leaf(spec, event_id, size, n, now)
    stack, nodes = merkle.append(
        merkle.deserialize_frontier(frontier, size), size, merkle.leaf_hash(leaf.encode())
    )
    event = (
        spec.tenant_id,
        size,
        event_id,
        now,
        spec.admin_id,
        "bench.append",
        "bench",
        f"w{spec.writer}-{n}",
        "allowed",
        f"bench-{spec.writer}-{n}",
        leaf,
    )
    rows = [(spec.tenant_id, level, idx, digest) for level, idx, digest in nodes]
    return event, merkle.serialize_frontier(stack), rows


def floor_postgres(spec: WriterSpec) -> WriterResult:
    url = make_url(spec.url).set(drivername="postgresql").render_as_string(hide_password=False)
    result, n = WriterResult(), 0
    with psycopg.connect(url) as conn:
        clock = CpuClock(conn.info.backend_pid)
        start = time.perf_counter() + spec.warmup
        end = start + spec.seconds
        while True:
            began = time.perf_counter()
            with conn.transaction():
                conn.execute(
                    "SELECT set_config('trustplane.tenant_id', %s, true),"
                    " set_config('trustplane.system', 'off', true)",
                    (spec.tenant_id,),
                )
                asked = time.perf_counter()
                size, frontier = conn.execute(
                    "SELECT size, frontier FROM ledger_heads WHERE tenant_id = %s FOR UPDATE",
                    (spec.tenant_id,),
                ).fetchone() or (0, b"")
                lock_at = time.perf_counter()
                event, stack, nodes = _floor_rows(spec, size, bytes(frontier), n)
                levels, indices, hashes = ([row[k] for row in nodes] for k in (1, 2, 3))
                tenant = spec.tenant_id
                params = (*event, tenant, levels, indices, hashes, size + 1, stack, tenant)
                conn.execute(_PG_APPEND, params)
                recorded = time.perf_counter()
            n += 1
            lock = (lock_at, lock_at - asked, 1, recorded)
            if not count(result, spec, began, start, end, lock, clock):
                return result


def floor_sqlite(spec: WriterSpec) -> WriterResult:
    path = spec.url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    clock = CpuClock(None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    result, n = WriterResult(), 0
    start = time.perf_counter() + spec.warmup
    end = start + spec.seconds
    try:
        while True:
            began = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            lock_at = time.perf_counter()
            size, frontier = conn.execute(
                "SELECT size, frontier FROM ledger_heads WHERE tenant_id = ?", (spec.tenant_id,)
            ).fetchone()
            event, stack, nodes = _floor_rows(spec, size, bytes(frontier), n)
            conn.execute(
                f"INSERT INTO audit_events ({_EVENT_COLUMNS}) VALUES "  # noqa: S608
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*event[:3], event[3].isoformat(sep=" "), *event[4:]),
            )
            conn.execute(
                "UPDATE ledger_heads SET size = ?, frontier = ? WHERE tenant_id = ?",
                (size + 1, stack, spec.tenant_id),
            )
            conn.executemany(
                "INSERT INTO ledger_nodes (tenant_id, level, idx, hash) VALUES (?, ?, ?, ?)", nodes
            )
            recorded = time.perf_counter()
            conn.execute("COMMIT")
            n += 1
            lock = (lock_at, lock_at - began, 4, recorded)
            if not count(result, spec, began, start, end, lock, clock):
                return result
    finally:
        conn.close()
