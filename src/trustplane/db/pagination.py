"""Keyset pagination over a sortable id column (ids are ULID-based, so id order is time order)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session


def keyset_page(
    session: Session, query: Select[tuple[Any]], id_column: Any, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """``limit`` rows after ``cursor`` and the cursor of the next page (None on the last)."""
    if cursor:
        query = query.where(id_column > cursor)
    rows = list(session.scalars(query.order_by(id_column).limit(limit + 1)))
    if len(rows) > limit:
        return rows[:limit], str(rows[limit - 1].id)
    return rows, None
