"""Client commands for models, their versions, the lifecycle, history and time travel.

Lifecycle commands (``trustplane model promote MODEL VERSION --env prod --intent ...``) read
the version's etag and send it as If-Match, unless ``--if-match`` names the etag you saw: a
version changed by someone else in between answers 412 and nothing happens.
"""

from __future__ import annotations

import json
from datetime import datetime
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
    when,
)
from trustplane.cli.output import console, fail, table
from trustplane.cli.policy_view import policy_denials
from trustplane.cli.registry import digest_of, pairs
from trustplane.client.registry_models import ModelRead, ModelVersionRead, TransitionRead

model_app = typer.Typer(help="Models, versions and their lifecycle.", no_args_is_help=True)
version_app = typer.Typer(help="Model versions.", no_args_is_help=True)
model_app.add_typer(version_app, name="version")

ACTIONS = (
    ("submit", "Submit a draft for validation (needs complete evidence)."),
    ("validate", "Record that a candidate passed validation."),
    ("approve", "Approve a validated candidate for release."),
    ("reject", "Reject a candidate."),
    ("promote", "Make the version the production pointer of an environment (--env)."),
    ("deprecate", "Deprecate an approved or production version."),
    ("retire", "Retire a deprecated version (ends its production pointers)."),
    ("suspend", "Suspend a version at once (ends its production pointers)."),
    ("reinstate", "Reinstate a suspended version."),
)


@model_app.command("register")
def model_register(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    owner: str | None = typer.Option(None, "--owner"),
    intended_use: str | None = typer.Option(None, "--intended-use"),
    out_of_scope: list[str] | None = typer.Option(None, "--out-of-scope", help="Repeatable."),
    limitation: list[str] | None = typer.Option(
        None, "--limitation", help="A known limitation, shown on the model card. Repeatable."
    ),
    risk_tier: str | None = typer.Option(None, "--risk-tier", help="low|medium|high|critical"),
    business_unit: str | None = typer.Option(None, "--business-unit"),
    regulatory_tag: list[str] | None = typer.Option(None, "--regulatory-tag"),
    description: str | None = typer.Option(None, "--description"),
    as_json: bool = json_option(),
) -> None:
    """Register a model with its owner, intended use, limitations and risk tier."""
    fields: dict[str, Any] = {
        "owner": owner,
        "intended_use": intended_use,
        "out_of_scope_uses": out_of_scope or None,
        "limitations": limitation or None,
        "risk_tier": risk_tier,
        "business_unit": business_unit,
        "regulatory_tags": regulatory_tag or None,
        "description": description,
    }
    with connect(ctx) as tp:
        model = tp.register_model(name, **{k: v for k, v in fields.items() if v is not None})
    emit(model, as_json, lambda: console.print(f"registered model {model.name} ({model.id})"))


@model_app.command("list")
def model_list(
    ctx: typer.Context,
    risk_tier: str | None = typer.Option(None, "--risk-tier"),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """List models."""
    with connect(ctx) as tp:
        page = collect(
            tp.list_models, cursor=cursor, limit=limit, follow=follow, risk_tier=risk_tier
        )
    emit_page(*page, as_json, _show_models)


def _show_models(items: list[ModelRead]) -> None:
    rows = [(m.name, m.risk_tier, m.owner, m.latest_version, m.id) for m in items]
    table("Models", ["name", "risk", "owner", "versions", "id"], rows)


@version_app.command("create")
def version_create(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Model name or id."),
    artifact: Path | None = typer.Option(None, "--artifact", help="File or directory to digest."),
    digest: str | None = typer.Option(None, "--digest", help="sha256:<hex>, if not --artifact."),
    uri: str | None = typer.Option(None, "--uri", help="Where the artifact is stored."),
    run: str | None = typer.Option(None, "--run", help="The producing run (run_...)."),
    metric: list[str] | None = typer.Option(None, "--metric", help="key=number (repeat)."),
    evaluations: Path | None = typer.Option(None, "--evaluations", help="JSON list file."),
    tag: list[str] | None = typer.Option(None, "--tag", help="key=value (repeat)."),
    description: str | None = typer.Option(None, "--description"),
    as_json: bool = json_option(),
) -> None:
    """Create a draft version; the artifact digest is computed from --artifact."""
    if (artifact is None) == (digest is None):
        fail("give exactly one of --artifact or --digest")
    content = digest if digest is not None else digest_of(artifact or Path())
    fields: dict[str, Any] = {
        "artifact_uri": uri,
        "run_id": run,
        "metrics": pairs(metric, "metric", numbers=True) if metric else None,
        "evaluations": _evaluations(evaluations) if evaluations else None,
        "tags": pairs(tag, "tag") if tag else None,
        "description": description,
    }
    with connect(ctx) as tp:
        mv = tp.create_model_version(
            model, content, **{k: v for k, v in fields.items() if v is not None}
        )
    emit(
        mv,
        as_json,
        lambda: console.print(f"{model} version {mv.version}: {mv.id} {mv.artifact_digest}"),
    )


def _evaluations(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"cannot read evaluations file '{path}': {exc}")
    if not isinstance(data, list):
        fail(f"evaluations file '{path}' must hold a JSON list")
    return data


@version_app.command("list")
def version_list(
    ctx: typer.Context,
    model: str = typer.Argument(...),
    state: str | None = typer.Option(None, "--state"),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """List a model's versions with their state and where they are in production."""
    with connect(ctx) as tp:
        page = collect(
            tp.list_model_versions,
            cursor=cursor,
            limit=limit,
            follow=follow,
            model=model,
            state=state,
        )
    emit_page(*page, as_json, _show_versions)


@version_app.command("show")
def version_show(
    ctx: typer.Context,
    model: str = typer.Argument(...),
    version: int = typer.Argument(...),
    as_json: bool = json_option(),
) -> None:
    """Show one version, its etag and what its evidence lacks."""
    with connect(ctx) as tp:
        mv = tp.model_version(model, version)
        report = tp.completeness(mv.id)
    emit(mv, as_json, lambda: _show_versions([mv]))
    if not as_json:
        missing = ", ".join(report.missing) or "nothing"
        console.print(f"etag {mv.etag}; evidence missing: {missing}", highlight=False)


def _show_versions(items: list[ModelVersionRead]) -> None:
    rows = [
        (v.version, v.state, ", ".join(v.production_in), v.artifact_digest, v.id) for v in items
    ]
    table("Model versions", ["version", "state", "production in", "artifact", "id"], rows)


PROMOTION_CATEGORIES = ("drift", "data-refresh", "business-request", "risk-review", "incident")


def _transition(
    ctx: typer.Context,
    action: str,
    model: str,
    version: int,
    *,
    intent: str,
    as_json: bool,
    if_match: str | None,
    env: str | None,
    replaces: str | None,
    category: str | None = None,
    justification: str | None = None,
) -> None:
    """Read the etag, apply the action; a policy denial shows its violations and exits 1."""
    with connect(ctx) as tp, policy_denials(as_json):
        current = tp.model_version(model, version)
        moved = tp.transition(
            current.id,
            action,
            intent=intent,
            etag=if_match or current.etag,
            environment=env,
            replaces=replaces,
            category=category,
            justification=justification,
        )
    where = f" in {', '.join(moved.production_in)}" if moved.production_in else ""
    emit(moved, as_json, lambda: console.print(f"{model} {version}: {moved.state}{where}"))


def _transition_command(action: str, help_text: str) -> None:
    def command(
        ctx: typer.Context,
        model: str = typer.Argument(..., help="Model name or id."),
        version: int = typer.Argument(..., help="Version number."),
        intent: str = typer.Option(..., "--intent", help="Why: recorded with the transition."),
        env: str | None = typer.Option(None, "--env", help="Environment (promote)."),
        replaces: str | None = typer.Option(
            None, "--replaces", help="promote: version id expected in production now, or none."
        ),
        if_match: str | None = typer.Option(None, "--if-match", help="The etag you saw."),
        as_json: bool = json_option(),
    ) -> None:
        _transition(
            ctx, action, model, version, intent=intent, as_json=as_json, if_match=if_match,
            env=env, replaces=replaces,
        )  # fmt: skip

    command.__doc__ = help_text
    model_app.command(action)(command)


def model_promote(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Model name or id."),
    version: int = typer.Argument(..., help="Version number."),
    intent: str = typer.Option(..., "--intent", help="Why: recorded with the transition."),
    env: str | None = typer.Option(None, "--env", help="Environment to promote to."),
    category: str | None = typer.Option(
        None, "--category", help="Why, for the policy: " + "|".join(PROMOTION_CATEGORIES)
    ),
    justification: str | None = typer.Option(
        None, "--justification", help="The case for this promotion, for the policy and reviewers."
    ),
    replaces: str | None = typer.Option(
        None, "--replaces", help="Version id expected in production now, or none."
    ),
    if_match: str | None = typer.Option(None, "--if-match", help="The etag you saw."),
    as_json: bool = json_option(),
) -> None:
    """Make the version the production pointer of an environment, if the policy allows."""
    if category is not None and category not in PROMOTION_CATEGORIES:
        fail(f"--category must be one of {', '.join(PROMOTION_CATEGORIES)}, not '{category}'")
    _transition(
        ctx, "promote", model, version, intent=intent, as_json=as_json, if_match=if_match,
        env=env, replaces=replaces, category=category, justification=justification,
    )  # fmt: skip


for _action, _help in ACTIONS:
    if _action == "promote":
        model_app.command("promote")(model_promote)
    else:
        _transition_command(_action, _help)


@model_app.command("history")
def model_history(
    ctx: typer.Context,
    model: str = typer.Argument(...),
    version: int | None = typer.Option(None, "--version", help="Only this version."),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """Who moved which version where, when and why."""
    with connect(ctx) as tp:
        if version is None:
            page = collect(tp.model_history, cursor=cursor, limit=limit, follow=follow, model=model)
        else:
            mv = tp.model_version(model, version)
            page = collect(
                tp.model_version_history,
                cursor=cursor,
                limit=limit,
                follow=follow,
                version_id=mv.id,
            )
    emit_page(*page, as_json, _show_history)


def _show_history(items: list[TransitionRead]) -> None:
    rows = [
        (
            when(t.at),
            t.model_version_id,
            t.action,
            f"{t.from_state} -> {t.to_state}",
            t.environment,
            t.actor_name,
            t.intent,
        )
        for t in items
    ]
    table("History", ["when", "version", "action", "state", "env", "who", "why"], rows)


@model_app.command("at")
def model_at(
    ctx: typer.Context,
    model: str = typer.Argument(...),
    time: str = typer.Option(..., "--time", help="RFC 3339 with offset, e.g. 2026-05-01T12:00Z."),
    env: str = typer.Option(..., "--env"),
    as_json: bool = json_option(),
) -> None:
    """Which version was in production in an environment at a past time."""
    moment = _moment(time)
    with connect(ctx) as tp:
        pointer = tp.production_at(model, time=moment, environment=env)
    if pointer.version is None:
        text = f"no version of {model} was in production in {env} at {moment.isoformat()}"
    else:
        until = pointer.valid_to.isoformat() if pointer.valid_to else "now"
        since = pointer.valid_from.isoformat() if pointer.valid_from else "?"
        text = f"{model} version {pointer.version} ({pointer.model_version_id}), {since} to {until}"
    emit(pointer, as_json, lambda: console.print(text, highlight=False))


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--time '{value}' is not an RFC 3339 time")
    if moment.tzinfo is None:
        fail(f"--time '{value}' needs a UTC offset (e.g. append Z)")
    return moment
