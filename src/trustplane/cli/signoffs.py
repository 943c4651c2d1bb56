"""Sign-off commands under ``trustplane model``: list a version's sign-offs, give one.

A sign-off is bound to the artifact digest it was given for: ``model sign-off`` reads the
version's current digest and sends it, so a sign-off can never approve an artifact its author
did not see (the server refuses a digest that is not the version's).
"""

from __future__ import annotations

import typer

from trustplane.cli.context import connect, emit, json_option, when
from trustplane.cli.output import console, table
from trustplane.cli.policy_view import show_decision
from trustplane.client.policy_models import ApprovalRead


def approvals(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Model name or id."),
    version: int = typer.Argument(..., help="Version number."),
    as_json: bool = json_option(),
) -> None:
    """List a version's sign-offs; those given for another artifact are marked and do not count."""
    with connect(ctx) as tp:
        mv = tp.model_version(model, version)
        given = tp.list_sign_offs(mv.id)
    emit(given, as_json, lambda: _show(given, mv.artifact_digest))


def _show(items: list[ApprovalRead], current_digest: str) -> None:
    rows = [
        (
            when(a.at),
            a.environment or "(all)",
            a.decision,
            a.role,
            a.principal_name,
            "current" if a.artifact_digest == current_digest else f"other: {a.artifact_digest}",
            a.comment,
            a.id,
        )
        for a in items
    ]
    columns = ["at", "env", "decision", "role", "who", "artifact", "comment", "id"]
    table("Sign-offs", columns, rows)


def sign_off(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Model name or id."),
    version: int = typer.Argument(..., help="Version number."),
    env: str = typer.Option(..., "--env", help="Environment the sign-off is for."),
    comment: str = typer.Option(..., "--comment", help="What you checked (3+ characters)."),
    reject: bool = typer.Option(False, "--reject", help="Record a rejection instead."),
    as_json: bool = json_option(),
) -> None:
    """Sign off the version's current artifact for an environment.

    Afterwards shows what the policy still needs: allowed, or the violations and the
    sign-offs missing with the roles to ask.
    """
    with connect(ctx) as tp:
        mv = tp.model_version(model, version)
        outcome = tp.sign_off(
            mv.id,
            env,
            comment=comment,
            decision="reject" if reject else "approve",
            artifact_digest=mv.artifact_digest,
        )

    def show() -> None:
        given = outcome.approval
        console.print(
            f"{given.decision} recorded for {model} {version} in {env} as {given.role}"
            f" (artifact {given.artifact_digest}, {given.id})",
            highlight=False,
            markup=False,
        )
        show_decision(outcome.decision, "the policy now says:")

    emit(outcome, as_json, show)
