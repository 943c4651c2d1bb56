"""Lineage queries over one tenant's graph: upstream, downstream, a node's neighbourhood and
the paths from raw sources to a node (impact, everything derived from a node, is in
``impact.py``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from trustplane.audit import AuditActor
from trustplane.errors import InvalidInput
from trustplane.lineage import graph, listing
from trustplane.lineage.describe import describe, describe_rows, resolve
from trustplane.lineage.nodes import parse_node
from trustplane.lineage.paths import paths_to_sources
from trustplane.lineage.schemas import EdgeRead, GraphRead, PathRead, Side
from trustplane.registry.repository import tenant_of

MAX_PATHS = 1000


def roots_of(session: Session, actor: AuditActor, node: str) -> tuple[str, list[str]]:
    """The actor's tenant and the graph node ids that the reference ``node`` names."""
    tenant = tenant_of(actor)
    return tenant, resolve(session, tenant, parse_node(node))


def walk_graph(
    session: Session,
    actor: AuditActor,
    node: str,
    direction: graph.Direction,
    depth: int,
    max_nodes: int,
) -> GraphRead:
    """Upstream or downstream of ``node`` up to ``depth`` edges away: one walk (nodes, edges
    and whether more lie beyond), then one description query per node kind listed."""
    tenant, roots = roots_of(session, actor, node)
    if not roots:
        return _graph_read(session, tenant, roots, {}, [], direction, depth, False)
    with graph.planned_for_walks(session):
        found = listing.listing(session, tenant, roots, direction, depth, max_nodes)
    side: Side = direction
    placed: dict[str, tuple[Side, int | None]] = {n: (side, d) for n, d in found.nodes}
    return _graph_read(
        session, tenant, roots, placed, found.edges, direction, depth, found.truncated
    )


def show(session: Session, actor: AuditActor, node: str, max_nodes: int) -> GraphRead:
    """The node with its direct neighbours on both sides."""
    tenant, roots = roots_of(session, actor, node)
    if not roots:
        return _graph_read(session, tenant, roots, {}, [], "both", 1, False)
    with graph.planned_for_walks(session):
        up = listing.listing(session, tenant, roots, "upstream", 1, max_nodes)
        down = listing.listing(session, tenant, roots, "downstream", 1, max_nodes)
        placed: dict[str, tuple[Side, int | None]] = {n: ("downstream", d) for n, d in down.nodes}
        placed.update((n, ("upstream", d)) for n, d in up.nodes)
        links = graph.edges_among(session, tenant, [*roots, *placed])
    edges = [(e.source, e.target, e.relation) for e in links]
    truncated = up.truncated or down.truncated
    return _graph_read(session, tenant, roots, placed, edges, "both", 1, truncated)


def _graph_read(
    session: Session,
    tenant: str,
    roots: list[str],
    placed: dict[str, tuple[Side, int | None]],
    edges: list[tuple[str, str, str]],
    direction: str,
    depth: int,
    truncated: bool,
) -> GraphRead:
    everything: dict[str, tuple[Side, int | None]] = {r: ("root", 0) for r in roots}
    everything.update((n, p) for n, p in placed.items() if n not in everything)
    nodes = describe_rows(session, tenant, everything)
    return GraphRead.model_validate(
        {
            "root": [n for n in nodes if n["side"] == "root"],
            "direction": direction,
            "depth": depth,
            "nodes": nodes,
            "edges": [{"source": s, "target": t, "relation": r} for s, t, r in edges],
            "truncated": truncated,
        }
    )


def path(session: Session, actor: AuditActor, node: str, depth: int) -> PathRead:
    """Every path from a raw source (nothing upstream of it) to ``node``, up to ``depth``."""
    tenant, roots = roots_of(session, actor, node)
    if len(roots) != 1:
        raise InvalidInput(
            f"'{node}' names {len(roots)} nodes; a path starts from one "
            "(give a version or run id, e.g. mv_...)"
        )
    target = roots[0]
    found = graph.walk(session, tenant, roots, "upstream", depth + 1)
    inside = {n: d for n, d in found.items() if d <= depth and n != target}
    within = [target, *inside]
    links = graph.edges_among(session, tenant, within)
    with_parents = graph.has_upstream(session, tenant, within)
    sources = {n for n in within if n not in with_parents and n != target}
    paths, cut = paths_to_sources([(e.source, e.target) for e in links], target, sources, MAX_PATHS)
    placed: dict[str, tuple[Side, int | None]] = {target: ("root", 0)}
    placed.update((n, ("upstream", d)) for n, d in inside.items())
    nodes = describe(session, tenant, placed)
    return PathRead(
        root=nodes[0],
        sources=[n for n in nodes if n.id in sources],
        paths=paths,
        nodes=nodes,
        edges=[EdgeRead(source=e.source, target=e.target, relation=e.relation) for e in links],
        truncated=cut,
    )
