"""Releases, evidence bundles, and reconstruction from a ledger export.

``evidence export`` and ``releases`` go through the API; ``evidence verify`` and
``reconstruct`` are offline: no server, no database, only the files given.
"""

from __future__ import annotations

from pathlib import Path

import orjson
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
from trustplane.cli.output import (
    console,
    emit_json,
    err_console,
    exit_on_failures,
    fail,
    table,
)
from trustplane.cli.story_view import show_story
from trustplane.client.evidence_models import ReleaseRead

evidence_app = typer.Typer(help="Signed evidence bundles of releases.", no_args_is_help=True)
releases_app = typer.Typer(help="Releases: promotions of a version to an environment.")


@releases_app.command("list")
def releases_list(
    ctx: typer.Context,
    model: str | None = typer.Option(None, "--model", help="Model name or id."),
    environment: str | None = typer.Option(None, "--env", help="Environment name."),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """List releases, oldest first, with their ids."""
    with connect(ctx) as tp:
        page = collect(
            tp.list_releases,
            cursor=cursor,
            limit=limit,
            follow=follow,
            model=model,
            environment=environment,
        )
    emit_page(*page, as_json, _show_releases)


def _show_releases(items: list[ReleaseRead]) -> None:
    rows = [
        (r.id, r.model, r.version, r.environment, r.actor_name, when(r.at), r.intent) for r in items
    ]
    table("Releases", ["id", "model", "version", "env", "by", "at", "intent"], rows)


@releases_app.command("show")
def releases_show(
    ctx: typer.Context,
    release_id: str = typer.Argument(..., help="Release id (rel_...)."),
    as_json: bool = json_option(),
) -> None:
    """The release as the registry records it: training, checks, decisions, approvals."""
    with connect(ctx) as tp:
        story = tp.get_release(release_id)
    if as_json:
        emit_json(story)
    else:
        show_story(story.model_dump())


@evidence_app.command("export")
def evidence_export(
    ctx: typer.Context,
    release: str = typer.Option(..., "--release", help="Release id (rel_...)."),
    output: Path = typer.Option(..., "-o", "--output", dir_okay=False, help="Bundle file."),
    key_out: Path | None = typer.Option(
        None, "--key-out", dir_okay=False, help="Also write the verifying public key (PEM)."
    ),
) -> None:
    """Write the release's signed evidence bundle (a DSSE envelope) as one JSON file."""
    with connect(ctx) as tp:
        envelope = tp.release_evidence(release)
        pem = tp.evidence_public_key() if key_out is not None else None
    try:
        output.write_bytes(orjson.dumps(envelope, option=orjson.OPT_INDENT_2) + b"\n")
        if key_out is not None and pem is not None:
            key_out.write_text(pem, encoding="ascii")
    except OSError as exc:
        fail(f"cannot write {exc.filename}: {exc.strerror}")
    console.print(f"wrote the evidence bundle of {release} to {output}", highlight=False)
    if key_out is not None:
        console.print(f"wrote the public key to {key_out}", highlight=False)


@evidence_app.command("verify")
def evidence_verify(
    bundle: Path = typer.Argument(..., dir_okay=False, help="Bundle file (DSSE JSON)."),
    key: Path | None = typer.Option(
        None, "--key", dir_okay=False, help="The publisher's public key (PEM) to pin."
    ),
    artifact: Path | None = typer.Option(
        None, "--artifact", help="The model file or directory: its digest must be the subject."
    ),
    as_json: bool = json_option(),
) -> None:
    """Verify a bundle offline. Exit 0 only if every check holds; 1 names what failed."""
    from trustplane.evidence.dsse import EnvelopeError
    from trustplane.evidence.verify import verify_envelope

    data = _read(bundle, "bundle")
    pem = _read(key, "key") if key is not None else None
    try:
        report = verify_envelope(data, pem, artifact)
    except EnvelopeError as exc:
        fail(f"{key}: {exc}")
    if as_json:
        emit_json(
            {
                "ok": report.ok,
                "release": report.release.get("id"),
                "checks": report.checks,
                "warnings": report.warnings,
                "failures": report.failures,
            }
        )
    else:
        for warning in report.warnings:
            err_console.print(f"[yellow]warning:[/] {warning}", highlight=False)
        for check in report.checks:
            console.print(f"  ok  {check}", highlight=False, markup=False)
        if report.ok:
            r = report.release
            console.print(
                f"verified the evidence of release {r.get('id')}: {r.get('model')} version "
                f"{r.get('version')} in {r.get('environment')}",
                highlight=False,
            )
    exit_on_failures(report.ok, report.failures, as_json)


def reconstruct(
    release: str = typer.Option(..., "--release", help="Release id (rel_...)."),
    source: Path = typer.Option(
        ..., "--from", file_okay=False, help="Ledger export folder ('trustplane audit export')."
    ),
    key_file: Path | None = typer.Option(
        None, "--key-file", dir_okay=False, help="Pin the verifier key instead of public.key."
    ),
    as_json: bool = json_option(),
) -> None:
    """Tell a release's story from a ledger export alone: no server, no database.

    The export is verified first; exit 1 if it does not verify or holds no such release.
    """
    from trustplane.audit.verify import UnreadableExport
    from trustplane.evidence.reconstruct import reconstruct as rebuild
    from trustplane.evidence.story import UnknownRelease, UnreadableStory

    pinned = _read(key_file, "key").decode("utf-8", "replace") if key_file else None
    try:
        result = rebuild(source, release, key=pinned)
    except UnreadableExport as exc:
        fail(str(exc))
    except (UnknownRelease, UnreadableStory) as exc:
        fail(str(exc), 1)
    if result.story is None:
        failures = ["the export does not verify; no story is told from it"]
        exit_on_failures(False, failures + result.verification.failures, as_json)
        return
    if as_json:
        emit_json({"verified": result.verification.to_dict(), **result.story})
        return
    v = result.verification
    console.print(
        f"ledger verified: {v.events} events of {v.origin}, root {v.root}", highlight=False
    )
    show_story(result.story)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read the {what} file {path}: {exc.strerror or exc}")
