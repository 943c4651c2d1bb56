"""Client commands for the audit trail: events, signed checkpoints, proofs and witnessing.

Checkpoints and proofs are verified here before they are reported: the note's signature with
the ledger's public key (from ``--key-file``, else as the server publishes it), proofs by RFC
9162 against the signed root. A check that fails exits with code 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import typer

from trustplane.cli.context import (
    add_list_command,
    all_option,
    collect,
    connect,
    cursor_option,
    emit_page,
    json_option,
    limit_option,
    when,
)
from trustplane.cli.output import EXIT_DENIED, console, emit_json, fail, table
from trustplane.client import TrustplaneClient
from trustplane.client.models import AuditEventRead, CheckpointRead

if TYPE_CHECKING:
    from trustplane.cli.proofs import Signed

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
proof_app = typer.Typer(help="Verified inclusion and consistency proofs.", no_args_is_help=True)
audit_app.add_typer(proof_app, name="proof")

KEY_FILE_HELP = "Verifier key file to check signatures with (default: the server's public key)."


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


# Checkpoints, proofs and witnessing. The Merkle and note code is imported when a command needs
# it, so other client commands start quickly.


def key_file_option() -> Any:
    return typer.Option(None, "--key-file", help=KEY_FILE_HELP, dir_okay=False)


def _signed(
    tp: TrustplaneClient, key_file: Path | None, cp: CheckpointRead | None = None
) -> Signed:
    """The latest checkpoint (or ``cp``), its signature and origin checked."""
    from trustplane.cli import proofs

    tenant_id = tp.whoami().tenant_id or ""
    try:
        verifier = proofs.load_verifier(tp, key_file)
        if cp is None:
            return proofs.latest_signed(tp, verifier, tenant_id)
        return proofs.check_checkpoint(cp, verifier, tenant_id)
    except proofs.VerificationFailed as exc:
        fail(str(exc), EXIT_DENIED)


@audit_app.command("checkpoint")
def audit_checkpoint(
    ctx: typer.Context,
    create: bool = typer.Option(False, "--create", help="Sign the current tree head now."),
    key_file: Path | None = key_file_option(),
    as_json: bool = json_option(),
) -> None:
    """Show the latest signed checkpoint (or sign one now), after checking its signature."""
    with connect(ctx) as tp:
        signed = _signed(tp, key_file, tp.create_checkpoint() if create else None)
    cp = signed.api
    if as_json:
        emit_json(cp.api_json())
        return
    console.print(f"checkpoint of [bold]{cp.origin}[/]", highlight=False)
    console.print(f"size: {cp.size}\nroot: {cp.root_hash}\nsigned: {when(cp.created_at)}")
    console.print(
        f"signature verified with {signed.verifier.key_string()}", highlight=False, soft_wrap=True
    )
    console.print()
    console.print(cp.note, highlight=False, markup=False, soft_wrap=True, end="")


def _show_checkpoints(items: list[CheckpointRead]) -> None:
    rows = [(c.size, c.root_hash, when(c.created_at)) for c in items]
    table("Checkpoints", ["size", "root (base64)", "signed"], rows)


add_list_command(
    audit_app,
    "checkpoints",
    "List stored checkpoints, smallest tree size first.",
    TrustplaneClient.list_checkpoints,
    _show_checkpoints,
)


@proof_app.command("inclusion")
def proof_inclusion(
    ctx: typer.Context,
    index: int | None = typer.Option(None, "--index", min=0, help="0-based leaf index (seq)."),
    event_id: str | None = typer.Option(None, "--event-id", help="The event's id (evt_...)."),
    size: int | None = typer.Option(
        None, "--size", min=1, help="Tree size (default: the latest checkpoint's)."
    ),
    key_file: Path | None = key_file_option(),
    as_json: bool = json_option(),
) -> None:
    """Prove an event is in the ledger: checked up to the signed checkpoint, or exit 1."""
    from trustplane.cli import proofs

    if (index is None) == (event_id is None):
        fail("give exactly one of --index or --event-id")
    with connect(ctx) as tp:
        signed = _signed(tp, key_file)
        tree_size = size if size is not None else signed.body.size
        proof = tp.inclusion_proof(index=index, event_id=event_id, tree_size=tree_size)
        try:
            proofs.check_inclusion(
                tp, proof, signed, index=index, event_id=event_id, tenant_id=signed.tenant_id
            )
        except proofs.VerificationFailed as exc:
            fail(str(exc), EXIT_DENIED)
    if as_json:
        emit_json(proof.api_json())
        return
    console.print(
        f"verified: event {proof.event_id} (leaf {proof.index}) is in the tree of size "
        f"{proof.tree_size}, vouched for by the checkpoint of size {signed.body.size}",
        highlight=False,
    )


@proof_app.command("consistency")
def proof_consistency(
    ctx: typer.Context,
    first: int = typer.Option(..., "--first", min=1, help="The older tree size."),
    second: int | None = typer.Option(
        None, "--second", min=1, help="The newer tree size (default: the latest checkpoint's)."
    ),
    key_file: Path | None = key_file_option(),
    as_json: bool = json_option(),
) -> None:
    """Prove the tree of size --first is a prefix of the tree of size --second, or exit 1."""
    from trustplane.cli import proofs

    with connect(ctx) as tp:
        signed = _signed(tp, key_file)
        newer = second if second is not None else signed.body.size
        proof = tp.consistency_proof(first, newer)
        try:
            if (proof.first, proof.second) != (first, newer):
                raise proofs.VerificationFailed(f"asked for sizes {first}..{newer}, got another")
            proofs.check_consistency(tp, proof, signed)
        except proofs.VerificationFailed as exc:
            fail(str(exc), EXIT_DENIED)
    if as_json:
        emit_json(proof.api_json())
        return
    console.print(
        f"verified: the tree of size {first} is a prefix of the tree of size {newer}, "
        f"vouched for by the checkpoint of size {signed.body.size}",
        highlight=False,
    )


@audit_app.command("public-key")
def audit_public_key(ctx: typer.Context) -> None:
    """Print the ledger's verifier key (C2SP note format) that checks every checkpoint."""
    with connect(ctx) as tp:
        key = tp.public_key()
    console.print(key, highlight=False, soft_wrap=True, markup=False)


@audit_app.command("witness")
def audit_witness(
    ctx: typer.Context,
    to: Path = typer.Option(..., "--to", dir_okay=False, help="Append-only witness file."),
    post: str | None = typer.Option(None, "--post", help="Also POST the record to this URL."),
    key_file: Path | None = key_file_option(),
) -> None:
    """Append the latest checkpoint to a witness file if it extends the last one witnessed.

    Each line is {"origin", "size", "note"}.
    """
    from trustplane.cli import proofs

    with connect(ctx) as tp:
        signed = _signed(tp, key_file)
        try:
            previous = proofs.last_witnessed(to, signed.body.origin)
            new = previous is None or proofs.check_against_witnessed(tp, signed, to, *previous)
            record = proofs.witness_record(signed)
            if new:
                proofs.append_record(to, record)
        except proofs.VerificationFailed as exc:
            fail(str(exc), EXIT_DENIED)
        except OSError as exc:
            fail(f"cannot use witness file {to}: {exc.strerror or exc}", EXIT_DENIED)
    verb = "witnessed" if new else "already witnessed"
    console.print(f"{verb}: {record['origin']} at size {record['size']} in {to}", highlight=False)
    if post is not None:
        _post(post, record)


def _post(url: str, record: dict[str, object]) -> None:
    try:
        response = httpx.post(url, json=record, timeout=30.0)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        fail(f"cannot POST the checkpoint to {url}: {exc or type(exc).__name__}", EXIT_DENIED)
    if not response.is_success:
        fail(f"POST to {url} answered HTTP {response.status_code}", EXIT_DENIED)
    console.print(f"posted to {url} (HTTP {response.status_code})", highlight=False)
