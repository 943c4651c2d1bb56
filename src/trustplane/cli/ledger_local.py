"""Local ledger commands: ``export`` and ``fsck`` read the database, ``verify`` only files.

``audit verify`` needs no server, no database and no settings: an auditor runs it on an export
folder they were handed. Heavy modules are imported inside the commands.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from trustplane.cli.output import (
    EXIT_DENIED,
    EXIT_USAGE,
    console,
    emit_json,
    exit_on_failures,
    fail,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

JSON_HELP = "Machine-readable output."


def export(
    directory: Path = typer.Argument(..., help="New or empty folder to write the export into."),
    tenant: str | None = typer.Option(
        None, "--tenant", help="Tenant name (default: the only tenant, if there is one)."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Export a tenant's ledger (events, signed checkpoints, public key) for offline checks."""
    from trustplane.audit.checkpoints import signer_from_settings
    from trustplane.audit.export import export_ledger
    from trustplane.audit.keys import KeyFileError
    from trustplane.audit.ledger import LedgerCorruption
    from trustplane.cli.local import ready_engine, settings
    from trustplane.db.session import make_session_factory, scope_to_tenant
    from trustplane.errors import InvalidInput

    cfg = settings()
    engine = ready_engine(cfg)
    try:
        factory = make_session_factory(engine)
        tenant_id = _tenant_id(factory, tenant)
        signer = signer_from_settings(cfg)
        with factory() as session:
            scope_to_tenant(session, tenant_id)
            result = export_ledger(session, tenant_id, signer, cfg.ledger_name, directory)
    except InvalidInput as exc:
        fail(exc.detail)
    except (KeyFileError, LedgerCorruption) as exc:
        fail(str(exc), EXIT_DENIED)
    except OSError as exc:
        fail(f"cannot write the export to {directory}: {exc.strerror or exc}", EXIT_DENIED)
    finally:
        engine.dispose()
    summary = {
        "directory": str(result.directory),
        "tenant_id": tenant_id,
        "events": result.size,
        "root": base64.b64encode(result.root).decode("ascii"),
        "checkpoints": result.checkpoints,
        "bytes": result.bytes_written,
    }
    if as_json:
        emit_json(summary)
        return
    console.print(
        f"exported {result.size} events of tenant {tenant_id} to {directory} "
        f"(signed checkpoints: {result.checkpoints})",
        highlight=False,
        markup=False,
    )
    console.print(
        f"check it with: trustplane audit verify {directory}", highlight=False, markup=False
    )


def verify(
    directory: Path = typer.Argument(..., help="Export folder written by 'audit export'."),
    witness: Path | None = typer.Option(
        None, "--witness", dir_okay=False, help="Witness file written by 'audit witness'."
    ),
    key_file: Path | None = typer.Option(
        None, "--key-file", dir_okay=False, help="Pin the verifier key instead of public.key."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Also parse every line fully and check RFC 8785 canonical form."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Verify an export offline: signatures, Merkle root, stored and witnessed checkpoints.

    Exit 0 only if everything verifies; 1 names the first bad leaf or checkpoint.
    """
    from trustplane.audit.verify import UnreadableExport, verify_export

    key = _read_key(key_file) if key_file is not None else None
    try:
        report = verify_export(directory, witness=witness, key=key, strict=strict)
    except UnreadableExport as exc:
        fail(str(exc))
    if as_json:
        emit_json(report.to_dict())
    elif report.ok:
        witnessed = f", {len(report.witnessed_checkpoints)} witnessed" if witness else ""
        how = "full parse" if report.strict else "canonical tail; --strict parses every line"
        console.print(
            f"verified {report.events} events of {report.origin}: root {report.root}, "
            f"{len(report.checked_checkpoints)} signed checkpoints consistent{witnessed} "
            f"(lines checked by {how})",
            highlight=False,
            markup=False,
        )
    exit_on_failures(report.ok, report.failures, as_json)


def fsck(
    tenant: str | None = typer.Option(
        None, "--tenant", help="Tenant name (default: the only tenant, if there is one)."
    ),
    witness: Path | None = typer.Option(
        None, "--witness", dir_okay=False, help="Witness file written by 'audit witness'."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Self-check the stored ledger: events, tree nodes, head, checkpoints, witnesses.

    Exit 1 on any inconsistency.
    """
    from trustplane.audit import fsck as ledger_fsck
    from trustplane.audit.checkpoints import origin_for
    from trustplane.audit.keys import KeyFileError, load_signer
    from trustplane.cli.local import ready_engine, settings
    from trustplane.db.session import make_session_factory, scope_to_tenant

    cfg = settings()
    lines = _read_witness(witness) if witness is not None else None
    try:
        verifier = load_signer(cfg.signing_key_path).verifier()
    except KeyFileError as exc:
        fail(f"cannot check checkpoint signatures: {exc}", EXIT_DENIED)
    engine = ready_engine(cfg)
    try:
        factory = make_session_factory(engine)
        tenant_id = _tenant_id(factory, tenant)
        with factory() as session:
            scope_to_tenant(session, tenant_id)
            report = ledger_fsck.fsck(
                session,
                tenant_id,
                witness_lines=lines,
                verifier=verifier,
                origin=origin_for(cfg.ledger_name, tenant_id),
            )
    finally:
        engine.dispose()
    if as_json:
        emit_json(report.to_dict())
    elif report.ok:
        console.print(
            f"ledger of tenant {tenant_id} is consistent: {report.events} events, root "
            f"{report.root}, {len(report.checked_checkpoints)} signed checkpoints"
            + (f", {len(report.witnessed_checkpoints)} witnessed" if witness else ""),
            highlight=False,
            markup=False,
        )
    exit_on_failures(report.ok, report.problems, as_json)


def _read_key(path: Path) -> str:
    """The verifier key string in ``path``; a usage error if it cannot be read or parsed."""
    from trustplane.audit.notes import NoteError, Verifier

    try:
        key = path.read_text(encoding="utf-8").strip()
        Verifier.from_key_string(key)
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the key file {path}: {exc}")
    except NoteError as exc:
        fail(f"the key file {path} holds no verifier key: {exc}")
    return key


def _read_witness(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the witness file {path}: {exc}")


def _tenant_id(factory: sessionmaker[Session], name: str | None) -> str:
    """The tenant called ``name``; without a name, the only tenant there is."""
    from sqlalchemy import select

    from trustplane.db.session import system_scope
    from trustplane.identity.models import Tenant

    query = select(Tenant.id, Tenant.name).order_by(Tenant.name).limit(2)
    if name is not None:
        query = query.where(Tenant.name == name)
    with factory() as session, system_scope(session):
        rows = session.execute(query).all()
    if name is not None and not rows:
        fail(f"no tenant named '{name}'", EXIT_USAGE)
    if not rows:
        fail("there is no tenant yet; create one with 'trustplane admin bootstrap'", EXIT_USAGE)
    if len(rows) > 1:
        fail(f"several tenants ({rows[0].name}, {rows[1].name}, ...): name one with --tenant")
    return str(rows[0].id)
