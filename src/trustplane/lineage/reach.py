"""One page of what a set of nodes reaches downstream, cut in SQL (impact and the attention
lists share it).

The statement walks the closure downstream of the seed (any distance, each node once) and,
over that closure, cuts the page in id order after a cursor (one id more than the page, to
tell whether more follow), optionally counts every derived node per kind and the production
pointers that serve a derived model version, and optionally finds which seed nodes each node
of the page derives from: a walk upstream from the page that never leaves the closure (every
path from a seed node to a derived node runs inside it), so it stays as small as the part of
the graph that matters. Only those rows leave the database.

Statements are built once per shape with bound parameters (``tenant``, ``after``, ``limit``
and the seed's own), so a query pays neither for building the SQL expression nor for
compiling it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Integer,
    Select,
    String,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from trustplane.lineage import graph
from trustplane.lineage.nodes import ID_KINDS
from trustplane.registry.models import ProductionPointer

PREFIX_OF = {kind: prefix for prefix, kind in ID_KINDS.items()}
_pointers = ProductionPointer.__table__.c

Seed = Select[Any] | BindParameter[Any]


@dataclass
class Found:
    """What the statement answered: the page's ids (``limit`` + 1 at most, sorted), totals if
    asked, and which seed nodes each page node derives from, if asked."""

    page: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    pointers: int = 0
    via: dict[str, list[str]] = field(default_factory=dict)


def statement(
    seed: Seed,
    *,
    prefix: str | None,
    in_production: bool,
    totals: bool,
    via: bool,
    postgres: bool,
) -> CompoundSelect[Any]:
    """Tagged (tag, id, seed id, number) rows: ``node`` for each page id, ``count`` per kind
    and one ``pointers`` row (with ``totals``), ``via`` (page id, seed id) pairs (with
    ``via``). Parameters: ``tenant``, ``after`` ('' for the first page), ``limit`` (page size
    plus one) and whatever ``seed`` binds."""
    tenant: BindParameter[str] = bindparam("tenant", type_=String)
    if isinstance(seed, Select):  # a query: run it once, however often the statement uses it
        seed = select(seed.cte("seed").c[0])
    reach = graph.closure_cte(tenant, seed, "downstream")
    outside = graph.seed_not_in(reach.c.node_id, seed)
    derived = select(reach.c.node_id).where(outside).cte("derived")
    node = derived.c.node_id
    page = select(node).where(node > bindparam("after", type_=String))
    if prefix is not None:
        page = page.where(graph.kind_range(prefix, node))
    if in_production:
        serves = exists().where(_pointers.tenant_id == tenant, _pointers.model_version_id == node)
        page = page.where(graph.kind_range(PREFIX_OF["model_version"], node), serves)
    listed = page.order_by(node).limit(bindparam("limit", type_=Integer)).cte("page")
    parts: list[Any] = [select(literal("node"), listed.c.node_id, graph.NO_TEXT, graph.NO_NUMBER)]
    if totals:
        kind = case(
            *((graph.kind_range(p, node), literal(k)) for p, k in ID_KINDS.items()),
            else_=literal("unknown"),
        )
        parts += [
            select(literal("count"), kind, graph.NO_TEXT, func.count()).group_by(kind),
            select(literal("pointers"), graph.NO_TEXT, graph.NO_TEXT, func.count()).where(
                _pointers.tenant_id == tenant, _pointers.model_version_id.in_(select(node))
            ),
        ]
    if via:
        parts.append(_via(tenant, seed, reach, listed, postgres))
    return union_all(*parts)


def _via(tenant: Any, seed: Seed, reach: Any, listed: Any, postgres: bool) -> Select[Any]:
    """(``via``, page id, seed id) rows: a walk upstream from each page node, carrying it,
    that only steps onto the closure or the seed, and marks the seed nodes it steps onto.

    The restriction is written for each database's planner. PostgreSQL tests membership with
    a hashed sub-plan (``IN ... OR IN ...``); a join would be a nested loop over the closure at
    each step, since walks run with hash joins off. SQLite joins the closure through an
    automatic index; a test on the edge table alone would make it build a Bloom filter over
    the whole edge index for the step. (The mark is a column for the same reason: as a final
    ``IN`` filter PostgreSQL would loop over the seed for every row.)
    """
    e = graph.edges.c
    up = select(
        graph.tenant_column(tenant),
        listed.c.node_id.label("item"),
        listed.c.node_id.label("node_id"),
        false().label("is_seed"),
    ).cte("via", recursive=True)
    step = select(e.tenant_id, up.c.item, e.source_id, graph.seed_in(e.source_id, seed))
    follow = up.join(graph.edges, graph.follow(up, e.target_id))
    if postgres:
        inside = or_(e.source_id.in_(select(reach.c.node_id)), graph.seed_in(e.source_id, seed))
        step = step.select_from(follow).where(inside)
    else:
        seeds = (  # the seed's rows (a list: those with an edge, the only ones a walk can reach)
            seed
            if isinstance(seed, Select)
            else select(e.source_id).where(e.tenant_id == tenant, graph.seed_in(e.source_id, seed))
        )
        members = select(reach.c.node_id).union_all(seeds).cte("inside")
        step = step.select_from(follow.join(members, members.c.node_id == e.source_id))
    up = up.union(step)
    return select(literal("via"), up.c.item, up.c.node_id, graph.NO_NUMBER).where(
        up.c.is_seed == true()
    )


def read(rows: Sequence[Any]) -> Found:
    """The statement's rows, sorted out."""
    found = Found()
    for tag, node_id, origin, number in rows:
        if tag == "node":
            found.page.append(node_id)
        elif tag == "count":
            found.counts[node_id] = int(number)
        elif tag == "pointers":
            found.pointers = int(number)
        else:
            found.via.setdefault(node_id, []).append(origin)
    found.page.sort()
    for origins in found.via.values():
        origins.sort()
    return found
