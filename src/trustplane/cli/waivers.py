"""Waiver commands: ask for, decide, list and sweep time-bound exceptions to policy rules.

A waiver names one model version, one environment and the rule ids it covers; it counts only
once someone other than the requester approves it, and only until it expires.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

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
    when,
)
from trustplane.cli.output import console, fail, table
from trustplane.client.policy_models import SweepRead, WaiverRead, WaiverReport

waivers_app = typer.Typer(
    help="Time-bound, approved exceptions to named policy rules.", no_args_is_help=True
)

DATE_HELP = "YYYY-MM-DD (midnight UTC) or an RFC 3339 time with offset."


def moment(value: str, option: str) -> datetime:
    """A date (midnight UTC that day) or an RFC 3339 time with offset; exit 2 otherwise."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        found = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} '{value}' is not a date (YYYY-MM-DD) or an RFC 3339 time")
    if found.tzinfo is None:
        fail(f"{option} '{value}' needs a UTC offset (e.g. append Z)")
    return found


@waivers_app.command("request")
def waiver_request(
    ctx: typer.Context,
    model: str = typer.Option(..., "--model", help="Model name or id."),
    version: int = typer.Option(..., "--version", help="Version number."),
    env: str = typer.Option(..., "--env", help="Environment the waiver holds in."),
    rule: list[str] = typer.Option(..., "--rule", help="Rule id to waive (repeat)."),
    reason: str = typer.Option(..., "--reason", help="Why the rule cannot be met now."),
    control: str = typer.Option(..., "--control", help="The compensating control meanwhile."),
    expires: str | None = typer.Option(None, "--expires", help=f"Expiry: {DATE_HELP}"),
    days: int | None = typer.Option(None, "--days", min=1, help="Expire N days from now."),
    review: str | None = typer.Option(
        None, "--review", help=f"Review date (default halfway to expiry): {DATE_HELP}"
    ),
    as_json: bool = json_option(),
) -> None:
    """Ask for a waiver; it counts once someone else approves it."""
    if (expires is None) == (days is None):
        fail("give exactly one of --expires or --days")
    until = (
        moment(expires, "--expires") if expires else datetime.now(UTC) + timedelta(days=days or 0)
    )
    review_at = moment(review, "--review") if review else None
    with connect(ctx) as tp:
        mv = tp.model_version(model, version)
        waiver = tp.request_waiver(
            mv.id,
            env,
            rule,
            reason=reason,
            compensating_control=control,
            expires_at=until,
            review_at=review_at,
        )
    emit(waiver, as_json, lambda: _show_one(waiver, f"requested waiver {waiver.id}"))


@waivers_app.command("list")
def waiver_list(
    ctx: typer.Context,
    status: str | None = typer.Option(
        None, "--status", help="pending, approved, rejected or expired."
    ),
    review_required: bool = typer.Option(
        False, "--review-required", help="Only waivers whose review date has come."
    ),
    model_version: str | None = typer.Option(None, "--model-version", help="Version id (mv_)."),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """List waivers, with whether each is valid now."""
    with connect(ctx) as tp:
        page = collect(
            tp.list_waivers,
            cursor=cursor,
            limit=limit,
            follow=follow,
            status=status,
            model_version_id=model_version,
            review_required=True if review_required else None,
        )
    emit_page(*page, as_json, _show_list)


def _show_list(items: list[WaiverRead]) -> None:
    rows = [
        (
            w.id,
            w.status,
            "yes" if w.valid else "no",
            w.model_version_id,
            w.environment,
            ", ".join(w.rule_ids),
            when(w.expires_at),
            when(w.review_at) + (" (due)" if w.review_required else ""),
        )
        for w in items
    ]
    columns = ["id", "status", "valid", "model version", "env", "rules", "expires", "review"]
    table("Waivers", columns, rows)


def _show_one(waiver: WaiverRead, headline: str | None = None) -> None:
    if headline:
        console.print(headline, highlight=False, markup=False)
    rows = [
        ("status", f"{waiver.status} ({'valid' if waiver.valid else 'not valid'} now)"),
        ("model version", waiver.model_version_id),
        ("environment", waiver.environment),
        ("rules", ", ".join(waiver.rule_ids)),
        ("reason", waiver.reason),
        ("compensating control", waiver.compensating_control),
        ("expires", when(waiver.expires_at)),
        ("review", when(waiver.review_at) + (" (due)" if waiver.review_required else "")),
        ("requested", f"{waiver.requested_by} at {when(waiver.requested_at)}"),
        (
            "decided",
            f"{waiver.decided_by} at {when(waiver.decided_at)}" if waiver.decided_by else "",
        ),
        ("decision comment", waiver.decision_comment),
        ("expired", when(waiver.expired_at)),
    ]
    table(f"Waiver {waiver.id}", ["field", "value"], rows)


@waivers_app.command("show")
def waiver_show(
    ctx: typer.Context,
    waiver_id: str = typer.Argument(..., help="The waiver (wv_...)."),
    as_json: bool = json_option(),
) -> None:
    """Show one waiver."""
    with connect(ctx) as tp:
        waiver = tp.get_waiver(waiver_id)
    emit(waiver, as_json, lambda: _show_one(waiver))


def _decide(ctx: typer.Context, waiver_id: str, comment: str, approve: bool, as_json: bool) -> None:
    with connect(ctx) as tp:
        if approve:
            waiver = tp.approve_waiver(waiver_id, comment)
        else:
            waiver = tp.reject_waiver(waiver_id, comment)
    emit(waiver, as_json, lambda: _show_one(waiver, f"waiver {waiver.id}: {waiver.status}"))


@waivers_app.command("approve")
def waiver_approve(
    ctx: typer.Context,
    waiver_id: str = typer.Argument(..., help="The waiver (wv_...)."),
    comment: str = typer.Option(..., "--comment", help="Why (3+ characters)."),
    as_json: bool = json_option(),
) -> None:
    """Approve a pending waiver (not one you requested)."""
    _decide(ctx, waiver_id, comment, True, as_json)


@waivers_app.command("reject")
def waiver_reject(
    ctx: typer.Context,
    waiver_id: str = typer.Argument(..., help="The waiver (wv_...)."),
    comment: str = typer.Option(..., "--comment", help="Why (3+ characters)."),
    as_json: bool = json_option(),
) -> None:
    """Reject a pending waiver (not one you requested)."""
    _decide(ctx, waiver_id, comment, False, as_json)


@waivers_app.command("sweep")
def waiver_sweep(ctx: typer.Context, as_json: bool = json_option()) -> None:
    """Expire due waivers now; production versions that relied on them are flagged."""
    with connect(ctx) as tp:
        swept = tp.sweep_waivers()
    emit(swept, as_json, lambda: _show_sweep(swept))


def _show_sweep(swept: SweepRead) -> None:
    console.print(f"expired {len(swept.expired)} waiver(s)", highlight=False)
    if swept.expired:
        _show_list(swept.expired)
    if swept.flagged_for_review:
        flagged = ", ".join(swept.flagged_for_review)
        console.print(f"flagged for review (in production): {flagged}", highlight=False)


@waivers_app.command("report")
def waiver_report(ctx: typer.Context, as_json: bool = json_option()) -> None:
    """Rules waived often lately: candidates to codify in the policy."""
    with connect(ctx) as tp:
        report = tp.waiver_report()
    emit(report, as_json, lambda: _show_report(report))


def _show_report(report: WaiverReport) -> None:
    console.print(
        f"rules waived more than {report.threshold} times in {report.window_days} days:",
        highlight=False,
    )
    if not report.candidates:
        console.print("none", highlight=False)
        return
    rows = [(c.rule_id, c.waivers, c.versions, when(c.since)) for c in report.candidates]
    table("Codification candidates", ["rule", "waivers", "versions", "since"], rows)
