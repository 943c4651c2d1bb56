"""Recursive walks over ``lineage_edges`` (SQLAlchemy Core; the same SQL on SQLite and
PostgreSQL), always inside one tenant.

Cycle safety: ingest refuses edges that would close a cycle, but the walks never rely on
that. A depth-limited walk carries (node, depth) rows and stops at the limit, so it ends on
any graph; a closure (no depth) is a ``UNION`` over nodes only, and both databases add a row
to a recursive ``UNION`` only if it was never produced before, so each node enters once and
the walk ends when no new node appears. (Each walk also carries its tenant as a column, a
constant that changes nothing in that argument; see ``follow`` for why.)

The statements that answer queries are built from these pieces in ``listing.py`` (graph
answers) and ``reach.py`` (impact and the attention lists).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ARRAY,
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    func,
    literal,
    null,
    select,
)
from sqlalchemy import cast as cast_
from sqlalchemy.orm import Session

from trustplane.db.session import is_postgres
from trustplane.registry.models import LineageEdge

Direction = Literal["upstream", "downstream"]
#: The nodes a walk starts from: ids, a query of ids, or a bound list (see ``ids_param``).
Seed = Sequence[str] | Select[Any] | BindParameter[Any]
#: The tenant: a value, or a bound parameter of a statement built once.
Tenant = str | BindParameter[Any]

edges = LineageEdge.__table__


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    relation: str


#: Typed NULLs for the columns a branch of a tagged ``UNION ALL`` does not use (PostgreSQL
#: cannot always infer the type of a bare NULL there).
NO_TEXT = cast_(null(), String)
NO_NUMBER = cast_(null(), Integer)

_WALK_SETTINGS = {"enable_hashjoin": "off", "enable_mergejoin": "off", "jit": "off"}
_PLANNED = "trustplane.lineage.planned_for_walks"  # session.info key: settings applied
_DEFAULTS = "trustplane.lineage.planner_defaults"  # connection info key: values to restore


@contextmanager
def planned_for_walks(session: Session) -> Iterator[None]:
    """PostgreSQL: plan walks as index lookups, for the statements run inside only.

    A recursive CTE's row estimate is a guess (ten times its first step), so PostgreSQL
    often hashes the whole edge table at every step and then JIT-compiles the expensive-looking
    plan: 0.5 to 1 s for an answer that index lookups give in 10 ms. The settings are
    transaction-local (``set_config(..., true)``) and put back on the way out to the
    connection's own values (read once per connection); a query that runs several walks wraps
    them all once (nested uses cost nothing). SQLite needs nothing (its walks already look
    edges up by index).
    """
    if not is_postgres(session) or session.info.get(_PLANNED):
        yield
        return
    names = list(_WALK_SETTINGS)
    connection = session.connection().info  # lives as long as the database connection
    before = connection.get(_DEFAULTS)
    if before is None:  # the connection's own values: only transactions change them here
        before = connection[_DEFAULTS] = tuple(
            session.execute(select(*(func.current_setting(name) for name in names))).one()
        )
    _apply(session, _WALK_SETTINGS)
    session.info[_PLANNED] = True
    try:
        yield
    except BaseException:
        # Left to the transaction, which they end with: restoring them in a transaction the
        # error aborted would fail and hide the real error.
        session.info.pop(_PLANNED, None)
        raise
    session.info.pop(_PLANNED, None)
    _apply(session, dict(zip(names, before, strict=True)))


def _apply(session: Session, settings: dict[str, str]) -> None:
    session.execute(
        select(*(func.set_config(name, value, True) for name, value in settings.items()))
    )


def ends(direction: Direction) -> tuple[ColumnElement[str], ColumnElement[str]]:
    """(the end we stand on, the end we move to) for a walk in ``direction``."""
    if direction == "downstream":
        return edges.c.source_id, edges.c.target_id
    return edges.c.target_id, edges.c.source_id


def ids_param(name: str, postgres: bool) -> BindParameter[Any]:
    """A bound list of ids. On PostgreSQL one array parameter (compared with ``= ANY``), so a
    long list neither lengthens the SQL nor costs a parameter, a rendering and a parse each;
    elsewhere an expanding ``IN`` list."""
    if postgres:
        return bindparam(name, type_=ARRAY(String))
    return bindparam(name, type_=String, expanding=True)


def seed_in(column: ColumnElement[str], seed: Seed) -> ColumnElement[bool]:
    """``column`` is one of the seed's ids (see :func:`ids_param` for the array form)."""
    if isinstance(seed, BindParameter) and isinstance(seed.type, ARRAY):
        return column == any_(seed)
    return column.in_(seed if isinstance(seed, (Select, BindParameter)) else list(seed))


def seed_not_in(column: ColumnElement[str], seed: Seed) -> ColumnElement[bool]:
    return ~seed_in(column, seed)


def walk(
    session: Session, tenant_id: str, seed: Seed, direction: Direction, max_depth: int
) -> dict[str, int]:
    """Every node within ``max_depth`` edges of the seed, with its shortest distance.

    A seed node appears only if the walk comes back to it (which needs a cycle).
    """
    near, far = ends(direction)
    first = select(edges.c.tenant_id, far.label("node_id"), literal(1).label("depth")).where(
        edges.c.tenant_id == tenant_id, seed_in(near, seed)
    )
    tree = first.cte("walk", recursive=True)
    step = select(edges.c.tenant_id, far, tree.c.depth + 1).select_from(
        tree.join(edges, follow(tree, near))
    )
    tree = tree.union(step.where(tree.c.depth < max_depth))
    with planned_for_walks(session):
        rows = session.execute(
            select(tree.c.node_id, func.min(tree.c.depth)).group_by(tree.c.node_id)
        ).all()
    return {node: int(depth) for node, depth in rows}


def follow(tree: Any, near: ColumnElement[str]) -> ColumnElement[bool]:
    """The recursive join: edges of the walk's tenant leaving the node it stands on.

    The tenant is carried as a column of the walk rather than compared with a constant: with
    planner statistics, SQLite otherwise builds a Bloom filter over the whole edge index for
    the recursive step, which costs time in proportion to the graph instead of the answer.
    """
    return and_(edges.c.tenant_id == tree.c.tenant_id, near == tree.c.node_id)


def closure_cte(tenant_id: Tenant, seed: Seed, direction: Direction) -> Any:
    """The recursive CTE of every node reachable from the seed in one or more steps, without
    a depth limit: (tenant_id, node_id) rows, each node once (a seed node is in it only if a
    cycle leads back to it)."""
    near, far = ends(direction)
    first = select(edges.c.tenant_id, far.label("node_id")).where(
        edges.c.tenant_id == tenant_id, seed_in(near, seed)
    )
    tree = first.cte("reach", recursive=True)
    step = select(edges.c.tenant_id, far).select_from(tree.join(edges, follow(tree, near)))
    return tree.union(step)


def tenant_column(tenant_id: Tenant) -> ColumnElement[str]:
    """The tenant as a column of the edges' own type (PostgreSQL wants the two terms of a
    recursive query to agree on it)."""
    value = tenant_id if isinstance(tenant_id, BindParameter) else literal(tenant_id)
    return cast_(value, edges.c.tenant_id.type).label("tenant_id")


def kind_range(prefix: str, column: ColumnElement[str]) -> ColumnElement[bool]:
    """Ids of one kind (node kinds derive from the id prefix): ``prefix_`` <= id < ``prefix```,
    a range an index can serve ('`' follows '_' in ASCII)."""
    return and_(column > f"{prefix}_", column < f"{prefix}`")


def reach_pairs(
    session: Session,
    tenant_id: str,
    origins: Select[str],
    direction: Direction,
) -> list[tuple[str, str]]:
    """(origin, node) pairs: each node reachable from each origin id, any distance, origins
    themselves excluded; ordered by node, then origin.

    The walk carries its origin, so the recursive ``UNION`` works on (origin, node) pairs;
    each pair enters once, which bounds the walk on any graph.
    """
    near, far = ends(direction)
    seed = origins.subquery()
    tree = select(
        tenant_column(tenant_id),
        seed.c[0].label("origin"),
        seed.c[0].label("node_id"),
    ).cte("reach_from", recursive=True)
    step = select(edges.c.tenant_id, tree.c.origin, far).select_from(
        tree.join(edges, follow(tree, near))
    )
    tree = tree.union(step)
    query = select(tree.c.origin, tree.c.node_id).where(tree.c.node_id != tree.c.origin)
    with planned_for_walks(session):
        rows = session.execute(query.order_by(tree.c.node_id, tree.c.origin)).all()
    return [(origin, node) for origin, node in rows]


def edges_among(session: Session, tenant_id: str, nodes: Iterable[str]) -> list[Edge]:
    """The edges whose two ends are both in ``nodes``, in a stable order."""
    wanted = set(nodes)
    found: list[Edge] = []
    for chunk in _chunks(sorted(wanted), 2000):
        rows = session.execute(
            select(edges.c.source_id, edges.c.target_id, edges.c.relation).where(
                edges.c.tenant_id == tenant_id,
                edges.c.source_id.in_(chunk),
            )
        ).all()
        found += [Edge(s, t, r) for s, t, r in rows if t in wanted]
    return sorted(found, key=lambda e: (e.source, e.target))


def has_upstream(session: Session, tenant_id: str, nodes: Iterable[str]) -> set[str]:
    """Which of ``nodes`` have at least one incoming edge."""
    found: set[str] = set()
    for chunk in _chunks(sorted(set(nodes)), 2000):
        found |= set(
            session.scalars(
                select(edges.c.target_id)
                .where(edges.c.tenant_id == tenant_id, edges.c.target_id.in_(chunk))
                .distinct()
            )
        )
    return found


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
