"""Client commands for the audit trail."""

from __future__ import annotations

import typer

from trustplane.cli.context import (
    all_option,
    collect,
    connect,
    cursor_option,
    emit_page,
    json_option,
    limit_option,
    when,
)
from trustplane.cli.output import table
from trustplane.client.models import AuditEventRead

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)


@audit_app.command("events")
def audit_events(
    ctx: typer.Context,
    actor: str | None = typer.Option(None, "--actor", help="Principal id of the actor."),
    action: str | None = typer.Option(None, "--action", help="e.g. binding.grant."),
    target_kind: str | None = typer.Option(None, "--target-kind", help="e.g. principal."),
    target_id: str | None = typer.Option(None, "--target-id"),
    correlation_id: str | None = typer.Option(
        None, "--correlation-id", help="Events of one request or command."
    ),
    outcome: str | None = typer.Option(None, "--outcome", help="allowed or denied."),
    since: str | None = typer.Option(
        None, "--since", help="RFC 3339 time with a timezone, e.g. 2030-01-31T00:00:00Z."
    ),
    until: str | None = typer.Option(None, "--until", help="RFC 3339 time with a timezone."),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """List audit events in ledger order (oldest first); filters combine with AND."""
    with connect(ctx) as tp:
        page = collect(
            tp.audit_events,
            cursor=cursor,
            limit=limit,
            follow=follow,
            actor=actor,
            action=action,
            target_kind=target_kind,
            target_id=target_id,
            correlation_id=correlation_id,
            outcome=outcome,
            since=since,
            until=until,
        )
    emit_page(*page, as_json, _show_events)


def _show_events(items: list[AuditEventRead]) -> None:
    rows = [
        (
            e.seq,
            when(e.time),
            e.actor.name,
            e.action,
            f"{e.target.kind} {e.target.name or e.target.id}",
            f"{e.outcome}: {e.reason}" if e.reason else e.outcome,
            e.correlation_id,
        )
        for e in items
    ]
    columns = ["seq", "time", "actor", "action", "target", "outcome", "correlation id"]
    table("Audit events", columns, rows)
