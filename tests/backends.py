"""Test databases: a fresh SQLite file or a fresh PostgreSQL database per test run.

PostgreSQL runs as a dedicated non-superuser role that owns its database, because superusers
bypass row-level security and our isolation tests must see the policies bite.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url
from ulid import ULID

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
APP_ROLE = "trustplane_test_app"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def admin_url() -> str:
    return os.environ.get("TRUSTPLANE_TEST_DATABASE_URL", DEFAULT_PG_URL)


def postgres_problem() -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        with psycopg.connect(_libpq(admin_url()), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {make_url(admin_url()).render_as_string()} did not answer: {exc}"
    return None


@contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    yield f"sqlite:///{folder / 'trustplane-test.db'}"


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a throw-away database owned by a non-superuser role; drop it afterwards."""
    name = f"tp_test_{str(ULID()).lower()}"
    admin = _libpq(admin_url())
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
        if not exists:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS").format(
                    sql.Identifier(APP_ROLE)
                )
            )
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(APP_ROLE)
            )
        )
    url = make_url(admin_url()).set(username=APP_ROLE, password=None, database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """An empty database of ``kind`` (``sqlite`` or ``postgresql``) of its own, not migrated.

    PostgreSQL that does not answer skips the test, visibly, and fails it under CI.
    """
    if kind == "sqlite":
        with sqlite_database(folder) as url:
            yield url
        return
    require_postgres()
    with postgres_database() as url:
        yield url


SKIP_NOTICES: list[str] = []
"""Why PostgreSQL tests were skipped, repeated at the end of the run (tests/conftest.py)."""


def require_postgres() -> None:
    """Return if PostgreSQL answers; else fail under CI, where it is mandatory, or skip the
    test with a notice that the run's summary repeats."""
    problem = postgres_problem()
    if problem is None:
        return
    if in_ci():
        pytest.fail(f"PostgreSQL tests are mandatory under CI: {problem}", pytrace=False)
    notice = f"PostgreSQL tests SKIPPED: {problem}"
    if notice not in SKIP_NOTICES:
        SKIP_NOTICES.append(notice)
    pytest.skip(notice)


def _libpq(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)
