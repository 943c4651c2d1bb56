"""Impact: everything derived from a node at any distance, one page at a time.

One statement (see ``reach.py``) walks the closure downstream of the root nodes (those the
reference names), cuts the page in id order, counts every derived node per kind and the
production pointers that serve a derived model version, and finds which root nodes each node
of the page derives from. The page and the roots are then described with one query per node
kind, and the page's model versions' production environments with one more.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import CompoundSelect
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor
from trustplane.db.session import is_postgres
from trustplane.errors import InvalidInput
from trustplane.lineage import graph, reach
from trustplane.lineage.describe import describe_ids, production_environments, via_row
from trustplane.lineage.nodes import kind_of
from trustplane.lineage.queries import roots_of
from trustplane.lineage.schemas import GraphKind, ImpactRead


def impact(
    session: Session,
    actor: AuditActor,
    node: str,
    *,
    kind: GraphKind | None = None,
    in_production: bool = False,
    cursor: str | None = None,
    limit: int,
) -> ImpactRead:
    """One page of what ``node`` reaches downstream (any distance), in id order; the cursor
    is the last id of the previous page.

    ``kind`` keeps one node kind; ``in_production`` keeps the model versions a production
    pointer serves. ``counts`` and ``production_pointers`` are totals over the whole answer,
    whatever the filters and the page.
    """
    if in_production and kind not in (None, "model_version"):
        wanted = kind.replace("_", " ") if kind else ""
        raise InvalidInput(f"in_production lists model versions; it cannot list {wanted}s")
    tenant, roots = roots_of(session, actor, node)
    found = reach.Found()
    if roots:
        statement = _statement(kind, in_production, len(roots) > 1, is_postgres(session))
        values = {"tenant": tenant, "roots": roots, "after": cursor or "", "limit": limit + 1}
        with graph.planned_for_walks(session):
            found = reach.read(session.execute(statement, values).all())
    page = found.page[:limit]
    described = describe_ids(session, tenant, [*roots, *page])
    versions = [n for n in page if kind_of(n) == "model_version"]
    environments = production_environments(session, tenant, versions)
    vias = {r: via_row(r, *described[r][1:]) for r in roots}
    every_root = list(vias.values())
    items = [
        {
            "id": n,
            "kind": described[n][0],
            "label": described[n][1],
            "details": described[n][2],
            "production_environments": environments.get(n, []),
            "via": [vias[r] for r in found.via.get(n, [])] if len(roots) > 1 else every_root,
        }
        for n in page
    ]
    return ImpactRead.model_validate(
        {
            "root": [_root_row(r, *described[r]) for r in roots],
            "counts": dict(sorted(found.counts.items())),
            "production_pointers": found.pointers,
            "items": items,
            "next_cursor": page[-1] if len(found.page) > limit else None,
        }
    )


@cache
def _statement(
    kind: GraphKind | None, in_production: bool, via: bool, postgres: bool
) -> CompoundSelect[Any]:
    """The impact statement of one shape, built once (a root set of one node needs no
    ``via`` walk: everything derives from it)."""
    return reach.statement(
        graph.ids_param("roots", postgres),
        prefix=reach.PREFIX_OF[kind] if kind is not None else None,
        in_production=in_production,
        totals=True,
        via=via,
        postgres=postgres,
    )


def _root_row(node_id: str, kind: str, label: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": node_id,
        "kind": kind,
        "label": label,
        "side": "root",
        "depth": 0,
        "details": details,
    }
