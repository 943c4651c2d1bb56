"""Policy commands: test a bundle locally, push and activate it, explain and replay decisions.

``trustplane policy test DIR`` needs no server: it compiles the bundle and runs its Rego unit
tests in the same sandboxed child process the server uses, so what passes here passes on
push. Every other command talks to the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import typer

from trustplane.cli.context import (
    add_list_command,
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
from trustplane.cli.output import EXIT_DENIED, EXIT_USAGE, console, emit_json, fail, table
from trustplane.cli.policy_view import show_decision, show_decision_details, show_test_report
from trustplane.client import TrustplaneAPIError, TrustplaneClient
from trustplane.client.policy_models import (
    ActivationOutcome,
    ActivationRequestRead,
    DecisionRead,
    PolicyActivationRead,
    PolicyBundleRead,
    PolicyTestReport,
)
from trustplane.policy.bundle import Bundle, BundleError, from_directory, from_files

policy_app = typer.Typer(
    help="Policy bundles: test, push, activate; explain and replay decisions.",
    no_args_is_help=True,
)
decisions_app = typer.Typer(help="Recorded policy decisions.", no_args_is_help=True)


def read_bundle(directory: Path) -> Bundle:
    """The bundle in ``directory``; exit 2 when it is not one."""
    try:
        return from_directory(directory)
    except BundleError as exc:
        fail(f"not a policy bundle: {exc}", EXIT_USAGE)


@policy_app.command("test")
def policy_test(
    ctx: typer.Context,
    directory: Path | None = typer.Argument(
        None, help="Bundle directory; the tenant's active bundle (from the server) if omitted."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the test report as JSON."),
) -> None:
    """Compile a bundle and run its Rego unit tests (test_* rules); exit 1 on any failure."""
    if directory is not None:
        found, source = read_bundle(directory), str(directory)
    else:
        with connect(ctx) as tp:
            active = tp.get_policy_bundle()
        try:
            found = from_files(active.files or {})
        except BundleError as exc:
            fail(f"the active bundle cannot be read: {exc}", EXIT_DENIED)
        source = f"active bundle {active.digest}"
    from trustplane.policy import sandbox  # loads the Rego engine: only this command needs it

    checked = sandbox.check(found)
    report = PolicyTestReport.from_api(checked.as_dict())
    if as_json:
        emit_json({"source": source, **checked.as_dict()})
    else:
        show_test_report(report, source)
    if checked.error is not None or not checked.compiled:
        fail(checked.error or "the bundle does not compile", EXIT_DENIED)
    if report.failed:
        fail(f"{report.failed} of {len(report.tests)} policy tests failed", EXIT_DENIED)


@contextmanager
def _refused_push(as_json: bool) -> Iterator[None]:
    """On a refused push, show the server's test report before the one-line error."""
    try:
        yield
    except TrustplaneAPIError as exc:
        report = exc.policy_test_report
        if report is not None and not as_json:
            show_test_report(report)
        raise


@policy_app.command("push")
def policy_push(
    ctx: typer.Context,
    directory: Path = typer.Argument(..., help="Bundle directory (.rego files, data.json)."),
    activate: bool = typer.Option(False, "--activate", help="Also make it the active bundle."),
    force: bool = typer.Option(
        False, "--force", help="Store it even though its tests fail (audited)."
    ),
    description: str = typer.Option("", "--description"),
    reason: str = typer.Option("", "--reason", help="Why: recorded with the activation."),
    as_json: bool = json_option(),
) -> None:
    """Push a bundle: the server compiles and tests it, then stores (and activates) it."""
    found = read_bundle(directory)
    with connect(ctx) as tp, _refused_push(as_json):
        outcome = tp.push_policy_bundle(
            found.files, description=description, activate=activate, force=force, reason=reason
        )
    emit(outcome, as_json, lambda: _show_outcome(outcome, found.digest))


def _show_outcome(outcome: ActivationOutcome, digest: str | None = None) -> None:
    if outcome.test_report is not None:
        show_test_report(outcome.test_report)
    if digest is not None:
        console.print(f"stored bundle {digest}", highlight=False)
    if outcome.activated is not None:
        done = outcome.activated
        console.print(f"activated {done.digest} (was {done.previous_digest})", highlight=False)
    elif outcome.pending is not None:
        asked = outcome.pending
        console.print(
            f"activation needs a second person: request {asked.id} waits for someone holding"
            f" policy.approve (trustplane policy approve-activation {asked.id})",
            highlight=False,
        )


@policy_app.command("list")
def policy_list(ctx: typer.Context, as_json: bool = json_option()) -> None:
    """List the tenant's bundles, newest first; the active one is marked."""
    with connect(ctx) as tp:
        bundles = tp.list_policy_bundles()
    emit(bundles, as_json, lambda: _show_bundles(bundles))


def _show_bundles(items: list[PolicyBundleRead]) -> None:
    rows = [
        (
            "*" if b.active else "",
            b.digest,
            b.description,
            f"{b.tests_passed} passed, {b.tests_failed} failed" + (" (forced)" if b.forced else ""),
            "trustplane" if b.shipped else b.created_by,
            when(b.created_at),
        )
        for b in items
    ]
    table("Policy bundles", ["active", "digest", "description", "tests", "by", "at"], rows)


@policy_app.command("show")
def policy_show(
    ctx: typer.Context,
    digest: str | None = typer.Argument(None, help="Bundle digest; the active one if omitted."),
    files: bool = typer.Option(False, "--files", help="Print every file of the bundle."),
    as_json: bool = json_option(),
) -> None:
    """Show one bundle (the active one by default), and with --files its sources."""
    with connect(ctx) as tp:
        bundle = tp.get_policy_bundle(digest)

    def show() -> None:
        _show_bundles([bundle])
        names = sorted(bundle.files or {})
        console.print(f"files: {', '.join(names)}", highlight=False, markup=False)
        if files:
            for name in names:
                console.rule(name)
                console.print((bundle.files or {})[name], highlight=False, markup=False)

    emit(bundle, as_json, show)


@policy_app.command("activate")
def policy_activate(
    ctx: typer.Context,
    digest: str = typer.Argument(..., help="Digest of a pushed bundle."),
    reason: str = typer.Option("", "--reason", help="Why: recorded with the activation."),
    as_json: bool = json_option(),
) -> None:
    """Make a pushed bundle the active one (or ask a second person, if the policy says so)."""
    with connect(ctx) as tp:
        outcome = tp.activate_policy_bundle(digest, reason=reason)
    emit(outcome, as_json, lambda: _show_outcome(outcome))


def _show_activations(items: list[PolicyActivationRead]) -> None:
    rows = [
        (when(a.at), a.digest, a.previous_digest, a.requested_by, a.approved_by, a.id)
        for a in items
    ]
    table("Activations", ["at", "digest", "previous", "by", "approved by", "id"], rows)


add_list_command(
    policy_app,
    "activations",
    "Which bundle replaced which, when, and who asked and approved.",
    TrustplaneClient.list_policy_activations,
    _show_activations,
)


@policy_app.command("requests")
def policy_requests(ctx: typer.Context, as_json: bool = json_option()) -> None:
    """Activation requests waiting for (or given) a second person's approval."""
    with connect(ctx) as tp:
        requests = tp.list_activation_requests()
    emit(requests, as_json, lambda: _show_requests(requests))


def _show_requests(items: list[ActivationRequestRead]) -> None:
    rows = [
        (r.id, r.status, r.digest, r.requested_by, when(r.requested_at), r.reason, r.decided_by)
        for r in items
    ]
    columns = ["id", "status", "digest", "by", "at", "reason", "decided by"]
    table("Activation requests", columns, rows)


@policy_app.command("approve-activation")
def policy_approve_activation(
    ctx: typer.Context,
    request_id: str = typer.Argument(..., help="The request (par_...)."),
    as_json: bool = json_option(),
) -> None:
    """Approve someone else's activation request: the bundle becomes active."""
    with connect(ctx) as tp:
        outcome = tp.approve_activation_request(request_id)
    emit(outcome, as_json, lambda: _show_outcome(outcome))


@policy_app.command("eval")
def policy_eval(
    ctx: typer.Context,
    model: str = typer.Option(..., "--model", help="Model name or id."),
    version: int = typer.Option(..., "--version", help="Version number."),
    target: str = typer.Option(..., "--target", help="Environment to promote to."),
    checkpoint: str = typer.Option("promote", "--checkpoint", help="promote or deploy."),
    as_json: bool = json_option(),
) -> None:
    """What promoting the version would get now (nothing is recorded); exit 1 if denied."""
    with connect(ctx) as tp:
        decision = tp.evaluate_policy(model, version, target, checkpoint=checkpoint_of(checkpoint))
    emit(decision, as_json, lambda: show_decision(decision, f"{model} {version} -> {target}"))
    if not decision.allowed:
        raise typer.Exit(EXIT_DENIED)


def checkpoint_of(value: str) -> Literal["promote", "deploy"]:
    """``--checkpoint``, checked here so a typo is a usage error with a clear message."""
    if value == "promote":
        return "promote"
    if value == "deploy":
        return "deploy"
    fail(f"--checkpoint must be promote or deploy, not '{value}'")


@policy_app.command("replay")
def policy_replay(
    ctx: typer.Context,
    decision_id: str = typer.Argument(..., help="The decision (dec_...)."),
    as_json: bool = json_option(),
) -> None:
    """Evaluate a recorded decision's input with its bundle again; exit 1 if the answer differs."""
    with connect(ctx) as tp:
        replay = tp.replay_decision(decision_id)

    def show() -> None:
        if replay.same:
            word = "allowed" if replay.original.allowed else "denied"
            console.print(f"replay of {replay.decision_id}: same result ({word})", highlight=False)
            return
        console.print(f"replay of {replay.decision_id}: [bold red]differs[/]", highlight=False)
        table("Differences", ["difference"], [(d,) for d in replay.differences])
        show_decision(replay.replayed, "now:")

    emit(replay, as_json, show)
    if not replay.same:
        raise typer.Exit(EXIT_DENIED)


@decisions_app.command("list")
def decisions_list(
    ctx: typer.Context,
    model_version: str | None = typer.Option(None, "--model-version", help="Version id (mv_)."),
    checkpoint: str | None = typer.Option(
        None, "--checkpoint", help="submit|approve|promote|deploy"
    ),
    denied: bool = typer.Option(False, "--denied", help="Only denials."),
    allowed: bool = typer.Option(False, "--allowed", help="Only allowed decisions."),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """List recorded decisions, oldest first."""
    if denied and allowed:
        fail("give at most one of --denied and --allowed")
    with connect(ctx) as tp:
        page = collect(
            tp.list_decisions,
            cursor=cursor,
            limit=limit,
            follow=follow,
            model_version_id=model_version,
            checkpoint=checkpoint,
            allowed=True if allowed else (False if denied else None),
        )
    emit_page(*page, as_json, _show_decisions)


def _show_decisions(items: list[DecisionRead]) -> None:
    rows = [
        (
            when(d.at),
            d.id,
            d.checkpoint,
            "allowed" if d.allowed else "denied",
            d.model_version_id,
            d.environment,
            ", ".join(v.id for v in d.violations),
        )
        for d in items
    ]
    columns = ["at", "id", "checkpoint", "result", "model version", "env", "violations"]
    table("Decisions", columns, rows)


@decisions_app.command("show")
def decisions_show(
    ctx: typer.Context,
    decision_id: str = typer.Argument(..., help="The decision (dec_...)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the decision as JSON, with the input it was made over."
    ),
) -> None:
    """Show one decision: verdict, violations, waivers, missing sign-offs."""
    with connect(ctx) as tp:
        decision = tp.get_decision(decision_id)
    emit(decision, as_json, lambda: show_decision_details(decision))
