"""Databases and tenants for the ledger benchmark.

SQLite lives in a temporary folder; PostgreSQL in a throw-away database owned by an ordinary
role (``servers.postgres_database``: a superuser would bypass row-level security and flatter
the figures). Both are migrated with ``trustplane.db.migrate.upgrade`` and get their tenants
through ``create_tenant``, as ``trustplane admin bootstrap`` does.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from servers import postgres_database
from trustplane.audit import Origin
from trustplane.db.migrate import upgrade
from trustplane.db.session import make_engine, make_session_factory, unit_of_work
from trustplane.identity.actor import Actor
from trustplane.identity.schemas import TenantCreate
from trustplane.identity.tenants import create_tenant

DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_ROLE = "trustplane_bench"
TOKEN_TTL_DAYS = 3650  # the cached ledger's admin token must outlive the cache


@dataclass(frozen=True)
class Database:
    """A migrated database: the URL the product uses, and (PostgreSQL) a superuser URL to the
    same database, which the cache needs because COPY FROM refuses tables under row-level
    security for any other role."""

    backend: str
    url: str
    admin_url: str | None = None


@dataclass(frozen=True)
class TenantInfo:
    """A bootstrapped tenant: its id, its admin principal and the admin's bearer token."""

    id: str
    name: str
    admin_id: str
    token: str


def pg_admin_url() -> str:
    return os.environ.get("BENCH_PG_ADMIN_URL", DEFAULT_PG_ADMIN_URL)


@contextlib.contextmanager
def sqlite_database(folder: Path) -> Iterator[Database]:
    """A fresh, migrated SQLite file in ``folder`` (the embedded default)."""
    url = f"sqlite:///{folder / 'trustplane.db'}"
    upgrade(url)
    yield Database("sqlite", url)


@contextlib.contextmanager
def scratch_postgres(admin_url: str) -> Iterator[Database]:
    """A fresh, migrated PostgreSQL database for this run, dropped afterwards."""
    with postgres_database(admin_url, PG_ROLE) as url:
        upgrade(url)
        name = make_url(url).database
        superuser = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        yield Database("postgresql", url, superuser)


@contextlib.contextmanager
def database(backend: str, folder: Path) -> Iterator[Database]:
    """The backend's scratch database; the caller skips PostgreSQL if it cannot be reached."""
    if backend == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        with sqlite_database(folder) as db:
            yield db
    else:
        with scratch_postgres(pg_admin_url()) as db:
            yield db


def bootstrap_tenant(url: str, prefix: str) -> TenantInfo:
    """Create a tenant with its admin, environments and token, as ``admin bootstrap`` does."""
    engine = make_engine(url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            result = create_tenant(
                session,
                Actor.local_system(Origin("bench-bootstrap")),
                TenantCreate(name=f"{prefix}-{secrets.token_hex(3)}"),
                token_ttl_days=TOKEN_TTL_DAYS,
            )
    finally:
        engine.dispose()
    return TenantInfo(result.tenant.id, result.tenant.name, result.admin.id, result.token.token)
