"""Engine creation, tenant scoping of sessions and the unit of work.

Tenant scope: the session remembers the tenant it serves (``session.info``). On PostgreSQL each
transaction sets ``trustplane.tenant_id`` (and ``trustplane.system`` for the few cross-tenant
lookups such as resolving a token) with ``set_config(..., is_local => true)``, which the
row-level security policies read. On SQLite the repositories' filters are the boundary.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

TENANT_KEY = "trustplane.tenant_id"
SYSTEM_KEY = "trustplane.system"


def normalise_url(url: str) -> str:
    """Accept the plain ``postgresql://`` form people copy from docs; we drive it with psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the per-backend settings Trustplane relies on."""
    url = normalise_url(url)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 0)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    # No pre-ping: it costs a round trip per request. A connection that died (server restart)
    # fails its request with 503 and is discarded with the rest of the pool, so the next
    # request reconnects; recycling bounds the age of idle connections.
    kwargs.setdefault("pool_recycle", 1800)
    return create_engine(url, **kwargs)


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Take transaction control from the driver so BEGIN IMMEDIATE below is honoured.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_on_begin(conn: Any) -> None:
    # A deferred transaction that reads and later writes fails at once with "database is
    # locked" when another writer committed in between (the busy timeout does not apply).
    # Writers therefore begin IMMEDIATE, where the busy timeout does apply; readers DEFERRED.
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
    return factory


@event.listens_for(Session, "after_begin")
def _apply_scope(session: Session, _tx: SessionTransaction | None, connection: Any) -> None:
    if connection.dialect.name != "postgresql":
        return
    tenant, system = session.info.get("tenant_id"), session.info.get("system")
    if _tx is not None and not tenant and not system:
        # A new transaction starts with no tenant and no system scope (the settings are
        # transaction-local), which sees nothing: there is nothing to set, save a round trip.
        return
    connection.execute(
        text("SELECT set_config(:tk, :tenant, true), set_config(:sk, :system, true)"),
        {
            "tk": TENANT_KEY,
            "tenant": tenant or "",
            "sk": SYSTEM_KEY,
            "system": "on" if system else "off",
        },
    )


def scope_to_tenant(session: Session, tenant_id: str | None) -> None:
    """From now on (this and later transactions) the session sees one tenant only (or, for
    None, none at all). Leaves system scope in the same round trip."""
    session.info["tenant_id"] = tenant_id
    session.info["system"] = False
    _reapply(session)


def reset_scope(session: Session) -> None:
    """Forget the scope for the next transaction, without a database call (the caller is
    abandoning the current one, possibly because its connection failed)."""
    session.info["tenant_id"] = None
    session.info["system"] = False


def enter_system_scope(session: Session) -> None:
    """Lift the tenant boundary until the next :func:`scope_to_tenant` (credential lookup)."""
    session.info["system"] = True
    _reapply(session)


@contextmanager
def tenant_scope(session: Session, tenant_id: str) -> Iterator[None]:
    """Briefly act inside another tenant (creating a tenant writes its first rows)."""
    previous = (session.info.get("tenant_id"), session.info.get("system", False))
    scope_to_tenant(session, tenant_id)
    try:
        yield
    finally:
        session.info["tenant_id"], session.info["system"] = previous
        _reapply(session)


@contextmanager
def system_scope(session: Session) -> Iterator[None]:
    """Briefly lift the tenant boundary, for lookups that must find the tenant first."""
    previous = session.info.get("system", False)
    session.info["system"] = True
    _reapply(session)
    try:
        yield
    finally:
        session.info["system"] = previous
        _reapply(session)


def _reapply(session: Session) -> None:
    if session.in_transaction() and is_postgres(session):
        _apply_scope(session, None, session.connection())


def begin_write(session: Session) -> None:
    """Begin the session's transaction as a writer (SQLite: BEGIN IMMEDIATE, taking the lock)."""
    session.info["writer"] = True
    if not session.in_transaction():
        session.connection(execution_options={"sqlite_immediate": True})


def is_writer(session: Session) -> bool:
    """Whether the session began as a writer (it may write without taking a second lock)."""
    return bool(session.info.get("writer"))


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction for one command: commit on success, roll back on any error."""
    session = factory()
    try:
        begin_write(session)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
