"""Keyset pagination over a sortable id column (ids are ULID-based, so id order is time order)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

M = TypeVar("M")


def keyset_page(
    session: Session, query: Select[M], id_column: Any, cursor: str | None, limit: int
) -> tuple[list[M], str | None]:
    """``limit`` rows after ``cursor`` and the cursor of the next page (None on the last)."""
    if cursor:
        query = query.where(id_column > cursor)
    rows = list(session.scalars(query.order_by(id_column).limit(limit + 1)))
    if len(rows) > limit:
        return rows[:limit], str(getattr(rows[limit - 1], "id"))  # noqa: B009
    return rows, None
