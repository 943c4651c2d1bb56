"""Client commands for lineage: walk the graph, measure impact, trace paths, check
completeness, find what needs attention, and send OpenLineage events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from trustplane.cli.context import (
    all_option,
    collect,
    connect,
    cursor_option,
    emit,
    emit_page,
    json_option,
    limit_option,
)
from trustplane.cli.output import EXIT_USAGE, console, emit_json, fail, table
from trustplane.client.models import (
    LineageAffectedVersion,
    LineageCompleteness,
    LineageGraph,
    LineageImpact,
    LineageImpactNode,
    LineageNode,
    LineagePath,
    LineageReceivedEvent,
    OpenLineageResult,
)

lineage_app = typer.Typer(
    help="Lineage: what a node was made from, what was made from it, and what that affects.",
    no_args_is_help=True,
)

NODE_HELP = (
    "dataset:NAMESPACE:NAME, job:NAMESPACE:NAME (e.g. dataset:s3://lake:raw/orders) or an id: "
    "dv_, fv_, run_, mv_ (one node), ds_, ft_, mdl_ (all their versions)."
)


def node_argument() -> Any:
    return typer.Argument(..., help=NODE_HELP, show_default=False)


def depth_option() -> Any:
    return typer.Option(None, "--depth", help="Edges to follow (server default 20, at most 100).")


def max_nodes_option() -> Any:
    return typer.Option(None, "--max-nodes", help="Most nodes to list (server default 500).")


@lineage_app.command("show")
def lineage_show(
    ctx: typer.Context,
    node: str = node_argument(),
    max_nodes: int | None = max_nodes_option(),
    as_json: bool = json_option(),
) -> None:
    """Show a node and its direct neighbours upstream and downstream."""
    with connect(ctx) as tp:
        graph = tp.lineage_show(node, max_nodes=max_nodes)
    emit(graph, as_json, lambda: _show_graph(graph))


@lineage_app.command("upstream")
def lineage_upstream(
    ctx: typer.Context,
    node: str = node_argument(),
    depth: int | None = depth_option(),
    max_nodes: int | None = max_nodes_option(),
    as_json: bool = json_option(),
) -> None:
    """What NODE was made from."""
    with connect(ctx) as tp:
        graph = tp.lineage_upstream(node, depth=depth, max_nodes=max_nodes)
    emit(graph, as_json, lambda: _show_graph(graph))


@lineage_app.command("downstream")
def lineage_downstream(
    ctx: typer.Context,
    node: str = node_argument(),
    depth: int | None = depth_option(),
    max_nodes: int | None = max_nodes_option(),
    as_json: bool = json_option(),
) -> None:
    """What was made from NODE."""
    with connect(ctx) as tp:
        graph = tp.lineage_downstream(node, depth=depth, max_nodes=max_nodes)
    emit(graph, as_json, lambda: _show_graph(graph))


def _nodes_table(title: str, nodes: list[LineageNode]) -> None:
    rows = [(n.side, "" if n.depth is None else n.depth, n.kind, n.label, n.id) for n in nodes]
    table(title, ["side", "depth", "kind", "node", "id"], rows)


def _show_graph(graph: LineageGraph) -> None:
    title = f"Lineage ({graph.direction}, depth {graph.depth})"
    _nodes_table(title, graph.nodes)
    console.print(f"{len(graph.nodes)} nodes, {len(graph.edges)} edges", highlight=False)
    if graph.truncated:
        console.print("more lie beyond: raise --depth or --max-nodes to see them")


@lineage_app.command("impact")
def lineage_impact(
    ctx: typer.Context,
    node: str = node_argument(),
    kind: str | None = typer.Option(
        None,
        "--kind",
        help="Only nodes of this kind: dataset_version, feature_version, run, model_version.",
    ),
    in_production: bool = typer.Option(
        False, "--in-production", help="Only model versions a production pointer serves."
    ),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """Everything derived from NODE, page by page: totals per kind, then the nodes (with the
    production environments of model versions and the root nodes each derives from)."""
    filters: dict[str, Any] = {"kind": kind, "in_production": in_production or None}
    with connect(ctx) as tp:
        pages = [tp.lineage_impact(node, cursor=cursor, limit=limit, **filters)]
        while follow and pages[-1].next_cursor not in (None, cursor):
            cursor = pages[-1].next_cursor
            pages.append(tp.lineage_impact(node, cursor=cursor, limit=limit, **filters))
    first, last = pages[0], pages[-1]
    items = [item for page in pages for item in page.items]
    if as_json:
        raw = [item for page in pages for item in page.api_json()["items"]]
        emit_json({**first.api_json(), "items": raw, "next_cursor": last.next_cursor})
        return
    _show_impact(first, items)
    if last.next_cursor:
        console.print(f"more results: repeat with --cursor {last.next_cursor} (or --all)")


def _show_impact(found: LineageImpact, items: list[LineageImpactNode]) -> None:
    roots = ", ".join(n.label for n in found.root) or "no versions yet"
    console.print(f"impact of: {roots}", highlight=False)
    counts = ", ".join(f"{n} {kind.replace('_', ' ')}(s)" for kind, n in found.counts.items())
    console.print(f"derived: {counts or 'nothing'}", highlight=False)
    console.print(f"production pointers reached: {found.production_pointers}", highlight=False)
    rows = [
        (
            n.kind.replace("_", " "),
            n.label,
            ", ".join(n.production_environments),
            ", ".join(f"{v.label} ({v.reason})" if v.reason else v.label for v in n.via),
            n.id,
        )
        for n in items
    ]
    table("Derived nodes", ["kind", "node", "production in", "via", "id"], rows)


def _versions_table(title: str, versions: list[LineageAffectedVersion]) -> None:
    rows = [
        (
            v.model_name,
            v.version,
            v.state,
            ", ".join(v.production_environments),
            ", ".join(f"{n.label} ({n.reason})" if n.reason else n.label for n in v.via),
            v.model_version_id,
        )
        for v in versions
    ]
    table(title, ["model", "version", "state", "production in", "via", "id"], rows)


@lineage_app.command("path")
def lineage_path(
    ctx: typer.Context,
    node: str = node_argument(),
    depth: int | None = depth_option(),
    as_json: bool = json_option(),
) -> None:
    """Every path from a raw source to NODE (a model version, run or dataset version id)."""
    with connect(ctx) as tp:
        found = tp.lineage_path(node, depth=depth)
    emit(found, as_json, lambda: _show_path(found))


def _show_path(found: LineagePath) -> None:
    labels = {n.id: n.label for n in found.nodes}
    console.print(f"paths to {found.root.label} ({found.root.id}):", highlight=False)
    for steps in found.paths:
        console.print("  " + " -> ".join(labels.get(s, s) for s in steps), highlight=False)
    if not found.paths:
        console.print("  no path reaches a raw source", highlight=False)
    if found.truncated:
        console.print("some paths go deeper than --depth or were not listed")


@lineage_app.command("completeness")
def lineage_completeness(
    ctx: typer.Context,
    node: str = typer.Argument(..., help="A model version id (mv_) or model id (mdl_)."),
    as_json: bool = json_option(),
) -> None:
    """Which expected lineage links a model version has, as a score from 0 to 1."""
    with connect(ctx) as tp:
        reports = tp.lineage_completeness(node)
    emit(reports, as_json, lambda: _show_completeness(reports))


def _show_completeness(reports: list[LineageCompleteness]) -> None:
    rows = [
        (r.model_name, r.version, f"{r.score:.2f}", ", ".join(r.missing) or "-", r.model_version_id)
        for r in reports
    ]
    table("Lineage completeness", ["model", "version", "score", "missing", "id"], rows)


@lineage_app.command("deprecated-features")
def lineage_deprecated_features(
    ctx: typer.Context,
    feature: str | None = typer.Option(None, "--feature", help="Only this ft_ or fv_ id."),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """Model versions trained on a deprecated feature, and where they serve."""
    with connect(ctx) as tp:
        page = collect(
            tp.list_deprecated_feature_users,
            cursor=cursor,
            limit=limit,
            follow=follow,
            feature=feature,
        )
    emit_page(*page, as_json, lambda items: _versions_table("On deprecated features", items))


@lineage_app.command("flagged-datasets")
def lineage_flagged_datasets(
    ctx: typer.Context,
    dataset: str | None = typer.Option(
        None, "--dataset", help="Only this dataset (ds_, dv_ or dataset:NAMESPACE:NAME)."
    ),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """Model versions that used a dataset version flagged for removal."""
    with connect(ctx) as tp:
        page = collect(
            tp.list_flagged_dataset_users,
            cursor=cursor,
            limit=limit,
            follow=follow,
            dataset=dataset,
        )
    emit_page(*page, as_json, lambda items: _versions_table("On flagged datasets", items))


@lineage_app.command("events")
def lineage_events(
    ctx: typer.Context,
    event_id: str | None = typer.Argument(None, help="One event (its body as sent)."),
    run_uuid: str | None = typer.Option(None, "--run-uuid", help="OpenLineage runId."),
    job_namespace: str | None = typer.Option(None, "--job-namespace"),
    job_name: str | None = typer.Option(None, "--job-name"),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """OpenLineage events received (oldest first), or one of them with its body."""
    with connect(ctx) as tp:
        if event_id is not None:
            one = tp.get_lineage_event(event_id)
            emit_json(one)
            return
        page = collect(
            tp.list_lineage_events,
            cursor=cursor,
            limit=limit,
            follow=follow,
            run_uuid=run_uuid,
            job_namespace=job_namespace,
            job_name=job_name,
        )
    emit_page(*page, as_json, lambda items: _events_table(items))


def _events_table(items: list[LineageReceivedEvent]) -> None:
    table(
        "OpenLineage events received",
        ["received", "id", "type", "event time", "job", "runId", "run", "inputs", "outputs"],
        [
            (
                e.received_at.isoformat(timespec="seconds"),
                e.id,
                e.event_type or "",
                e.event_time.isoformat(timespec="seconds"),
                f"{e.job_namespace}:{e.job_name}",
                e.run_uuid,
                e.run_id,
                len(e.inputs),
                len(e.outputs),
            )
            for e in items
        ],
    )


@lineage_app.command("send")
def lineage_send(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A file holding one OpenLineage RunEvent (JSON)."),
    compress: bool = typer.Option(False, "--gzip", help="Send it gzip-compressed."),
    as_json: bool = json_option(),
) -> None:
    """Send one OpenLineage RunEvent from a file (pipelines use an OpenLineage client)."""
    try:
        event = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}", EXIT_USAGE)
    except ValueError as exc:
        fail(f"{path} is not JSON: {exc}", EXIT_USAGE)
    if not isinstance(event, dict):
        fail(f"{path} must hold one JSON object (a RunEvent)", EXIT_USAGE)
    with connect(ctx) as tp:
        result = tp.send_openlineage(event, compress=compress)
    emit(result, as_json, lambda: _show_sent(result))


def _show_sent(result: OpenLineageResult) -> None:
    what = "already received; nothing changed" if result.duplicate else "recorded"
    console.print(
        f"{result.event_type or 'event'} of job {result.job_namespace}:{result.job_name} "
        f"{what}: run {result.run_id}, {len(result.inputs)} input(s), "
        f"{len(result.outputs)} output(s)",
        highlight=False,
    )
