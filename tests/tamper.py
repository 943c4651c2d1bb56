"""Tampering as a database owner could: lift a table's insert-only triggers for one change."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session


@contextmanager
def triggers_off(session: Session, backend: str, table: str) -> Iterator[None]:
    """Lift a table's insert-only triggers as its owner would, and put them back."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from trustplane.db import ddl

    if backend == "postgresql":
        session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        yield
        session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        return
    with Operations.context(MigrationContext.configure(session.connection())):
        ddl.remove_insert_only(table)
        yield
        ddl.install_insert_only(table)
