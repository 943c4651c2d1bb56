"""Paths through a lineage subgraph (pure): every way a node came from its raw sources."""

from __future__ import annotations

from collections.abc import Iterable


def paths_to_sources(
    edges: Iterable[tuple[str, str]], target: str, sources: set[str], max_paths: int
) -> tuple[list[list[str]], bool]:
    """Every simple path from a node of ``sources`` to ``target`` along ``edges``.

    Each path is listed source first. Returns the paths (sorted) and whether the answer is
    incomplete: more than ``max_paths`` paths, or a branch that ends at a node that is not a
    source (its upstream lies outside ``edges``, e.g. beyond a depth limit). A node already on
    the current path is never taken again, so a cycle cannot make the walk loop.
    """
    parents: dict[str, list[str]] = {}
    for source, node in edges:
        parents.setdefault(node, []).append(source)
    for found in parents.values():
        found.sort()
    paths: list[list[str]] = []
    incomplete = False
    stack: list[tuple[str, list[str]]] = [(target, [target])]
    while stack:
        node, path = stack.pop()
        if node in sources and node != target:
            if len(paths) == max_paths:
                return sorted(paths), True
            paths.append(path[::-1])
            continue
        if node not in parents:  # nothing known upstream, yet not a source: cut off
            incomplete = incomplete or node not in sources
            continue
        upstream = [p for p in parents[node] if p not in path]
        stack.extend((p, [*path, p]) for p in reversed(upstream))
    return sorted(paths), incomplete
