"""Graph answers (upstream, downstream, a node's neighbourhood): a depth-limited walk, its
nearest nodes and the edges among them, in one statement built once per shape."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session

from trustplane.db.session import is_postgres
from trustplane.lineage.graph import (
    NO_NUMBER,
    NO_TEXT,
    Direction,
    Seed,
    Tenant,
    edges,
    ends,
    follow,
    ids_param,
    planned_for_walks,
    seed_in,
    seed_not_in,
)


@dataclass(frozen=True, slots=True)
class Listing:
    """A depth-limited walk as a graph answer lists it: the nearest nodes (id, distance), by
    distance then id; the edges between two listed nodes or seeds; whether more lie beyond."""

    nodes: list[tuple[str, int]]
    edges: list[tuple[str, str, str]]
    truncated: bool


def listing(
    session: Session,
    tenant_id: str,
    seed: list[str],
    direction: Direction,
    depth: int,
    max_nodes: int,
) -> Listing:
    """The nodes within ``depth`` edges of the seed (seed nodes excluded), at most
    ``max_nodes`` of them, nearest first, with the edges among them, in one statement.

    The walk goes one step further than ``depth`` to tell whether more lie beyond; nodes are
    ranked and cut in SQL, and the edges are then looked up from the listed nodes and the seed
    only, so nothing but the answer leaves the database.
    """
    statement = _listing_statement(direction, is_postgres(session))
    values = {"tenant": tenant_id, "seed": seed, "depth": depth, "limit": max_nodes + 1}
    with planned_for_walks(session):
        rows = session.execute(statement, values).all()
    nodes = sorted(((a, n) for tag, a, _b, _c, n in rows if tag == "node"), key=_by_depth)
    beyond = sum(n for tag, _a, _b, _c, n in rows if tag == "beyond")
    kept = {node for node, _depth in nodes[:max_nodes]} | set(seed)
    found = sorted(
        (a, b, r) for tag, a, b, r, _n in rows if tag == "edge" and a in kept and b in kept
    )
    return Listing(nodes[:max_nodes], found, beyond > 0 or len(nodes) > max_nodes)


@cache
def _listing_statement(direction: Direction, postgres: bool) -> CompoundSelect[Any]:
    """Tagged (tag, id, id, relation, number) rows: ``node`` (id, distance) for the nearest
    ``limit`` nodes, ``edge`` rows, and one ``beyond`` count of nodes past ``depth``. Built once
    per shape; parameters ``tenant``, ``seed`` (a list), ``depth`` and ``limit``."""
    tenant: BindParameter[str] = bindparam("tenant", type_=String)
    seed = ids_param("seed", postgres)
    depth: BindParameter[int] = bindparam("depth", type_=Integer)
    near, far = ends(direction)
    c = edges.c
    first = select(c.tenant_id, far.label("node_id"), literal(1).label("depth")).where(
        c.tenant_id == tenant, seed_in(near, seed)
    )
    tree = first.cte("walk", recursive=True)
    step = select(c.tenant_id, far, tree.c.depth + 1).select_from(
        tree.join(edges, follow(tree, near))
    )
    tree = tree.union(step.where(tree.c.depth <= depth))
    placed = (
        select(tree.c.node_id, func.min(tree.c.depth).label("depth"))
        .group_by(tree.c.node_id)
        .cte("placed")
    )
    listed = (
        select(placed.c.node_id, placed.c.depth)
        .where(placed.c.depth <= depth, seed_not_in(placed.c.node_id, seed))
        .order_by(placed.c.depth, placed.c.node_id)
        .limit(bindparam("limit", type_=Integer))
        .cte("listed")
    )
    return union_all(
        select(literal("node"), listed.c.node_id, NO_TEXT, NO_TEXT, listed.c.depth),
        *_links_among(tenant, listed, seed, direction, postgres),
        select(literal("beyond"), NO_TEXT, NO_TEXT, NO_TEXT, func.count()).where(
            placed.c.depth > depth
        ),
    )


def _links_among(
    tenant_id: Tenant, listed: Any, seed: Seed, direction: Direction, postgres: bool
) -> list[Select[Any]]:
    """Tagged (``edge``, source, target, relation) rows: the edges leaving a listed or seed
    node (in the walk's direction) whose other end is listed or a seed too.

    Written for each database's planner. PostgreSQL tests the far end with a hashed sub-plan
    (``IN ... OR IN ...``); a join would be a nested loop over the list, since walks run with
    hash joins off. SQLite joins both ends to the list and the seed through automatic indexes;
    a test on the edge table alone would make it build a Bloom filter over the edge index.
    """
    near, far = ends(direction)
    c = edges.c
    link = (literal("edge"), c.source_id, c.target_id, c.relation, NO_NUMBER)
    if postgres:
        among = or_(far.in_(select(listed.c.node_id)), seed_in(far, seed))
        from_listed = listed.join(edges, and_(c.tenant_id == tenant_id, near == listed.c.node_id))
        return [
            select(*link).select_from(from_listed).where(among),
            select(*link).where(c.tenant_id == tenant_id, seed_in(near, seed), among),
        ]
    members = union(  # the listed nodes, and the seed nodes at an end of an edge (no others count)
        select(listed.c.node_id),
        select(c.source_id).where(c.tenant_id == tenant_id, seed_in(c.source_id, seed)),
        select(c.target_id).where(c.tenant_id == tenant_id, seed_in(c.target_id, seed)),
    ).cte("members")
    other = members.alias("other_end")
    joined = members.join(edges, and_(c.tenant_id == tenant_id, near == members.c.node_id)).join(
        other, other.c.node_id == far
    )
    return [select(*link).select_from(joined)]


def _by_depth(row: tuple[str, int]) -> tuple[int, str]:
    return row[1], row[0]
