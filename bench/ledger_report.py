"""Printing and saving the ledger benchmark's figures."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psycopg

from ledger_append import AppendFigures
from ledger_setup import pg_admin_url


class Run:
    """What a run measured, what it checked, and what went wrong."""

    def __init__(self) -> None:
        self.figures: dict[str, Any] = {"append": [], "export": {}, "proofs": {}}
        self.problems: list[str] = []
        self.targets: list[tuple[str, str, bool]] = []

    def target(self, name: str, measured: str, ok: bool) -> None:
        self.targets.append((name, measured, ok))


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def print_header(args: argparse.Namespace) -> None:
    print("Trustplane ledger benchmark")
    print(f"  machine   : {os.cpu_count()} cores, {platform.machine()}, {platform.system()}")
    print(
        f"  software  : Python {platform.python_version()}, trustplane {version('trustplane')}, "
        f"SQLAlchemy {version('sqlalchemy')}, psycopg {version('psycopg')}, "
        f"SQLite {sqlite3.sqlite_version}, {postgres_version()}"
    )
    print(
        f"  plan      : {args.events:,}-event ledger; append windows {args.warmup:g} s warm-up +"
        f" {args.seconds:g} s measured; {args.proofs:,} proofs of each kind"
    )
    print("  writers   : processes (server worker processes); 8 writers also as threads of one")
    print(f"  load avg  : {load_average()} (other work on the machine skews every figure)")
    print()


def postgres_version() -> str:
    try:
        with psycopg.connect(pg_admin_url(), connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error:
        return "PostgreSQL unreachable"
    return f"PostgreSQL {row[0] if row else '?'}"


# 1. Appends


def explain(figures: AppendFigures) -> None:
    """Where a one-event append's time goes, and the rate its critical section allows."""
    p = figures.phases
    if not p.txns:
        return
    us = 1e6 / p.txns
    held = (p.held_in_record + p.commit) * us
    who, writes = ("floor", "writes") if figures.mode == "floor" else ("record()", "record()")
    print(
        f"     {who}: before lock {p.before_lock * us:,.0f} us, lock wait {p.lock_wait * us:,.0f}"
        f" us; lock held {held:,.0f} us = {writes} {p.held_in_record * us:,.0f} us"
        f" ({p.statements_held / p.txns:.0f} statements) + commit {p.commit * us:,.0f} us"
        f" -> at most {1e6 / held:,.0f} events/s per tenant"
    )
    if figures.cpu_writer_us is not None and figures.cpu_server_us is not None:
        cpu = figures.cpu_writer_us + figures.cpu_server_us
        cores = os.cpu_count() or 1
        where = (
            f" + {figures.cpu_server_us:,.0f} us in its PostgreSQL backend"
            if figures.cpu_server_us
            else " (SQLite works inside it)"
        )
        print(
            f"     {who}: CPU per event {figures.cpu_writer_us:,.0f} us in the writer{where}"
            f" -> {cores} cores allow at most {cores * 1e6 / cpu:,.0f} events/s"
        )


def print_targets(run: Run, events: int) -> None:
    print("targets")
    for name, measured, ok in run.targets:
        print(f"   {'PASS' if ok else 'FAIL'}  {name:<48} {measured}")
    if events != 1_000_000:
        print(f"   (the targets are set at 1,000,000 events; this run used {events:,})")
    print()


def write_json(path: Path, args: argparse.Namespace, run: Run) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "ledger",
        "finished_at": datetime.now(UTC).isoformat(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "args": {k: str(v) for k, v in vars(args).items()},
        **run.figures,
        "targets": [{"name": n, "measured": m, "ok": ok} for n, m, ok in run.targets],
        "problems": run.problems,
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"wrote {path}")
