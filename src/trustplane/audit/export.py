"""Exporting a tenant's ledger for offline verification (format: docs/audit.md).

The export is cut at a fresh checkpoint: exactly its ``size`` events are written, whatever is
appended meanwhile, so the checkpoint covers every line. Events stream out in batches by
sequence number, so a ledger of millions of events never sits in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import checkpoints as ledger_checkpoints
from trustplane.audit.ledger import LedgerCorruption
from trustplane.audit.models import AuditEvent, LedgerCheckpoint
from trustplane.audit.notes import Signer
from trustplane.audit.verify import CHECKPOINT, CHECKPOINTS, EVENTS, PUBLIC_KEY
from trustplane.db.session import is_writer
from trustplane.errors import InvalidInput

BATCH = 5_000


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    tenant_id: str
    size: int
    root: bytes
    checkpoints: int
    bytes_written: int


def export_ledger(
    session: Session, tenant_id: str, signer: Signer, ledger_name: str, directory: Path
) -> ExportResult:
    """Write the tenant's ledger to ``directory``, which must not exist or be empty.

    The fresh checkpoint is signed as :func:`~trustplane.audit.checkpoints.fresh_checkpoint`
    says. The session must be scoped to the tenant.
    """
    folder = Path(directory)
    if not is_writer(session) and session.in_transaction():  # its snapshot (SQLite) could
        raise RuntimeError(  # predate the checkpoint and miss some of its events
            "export_ledger needs a writer session or one not yet in a transaction"
        )
    _claim_folder(folder)
    checkpoint = ledger_checkpoints.fresh_checkpoint(session, tenant_id, signer, ledger_name)
    written = _write_events(session, tenant_id, checkpoint.size, folder / EVENTS)
    stored = _write_checkpoints(session, tenant_id, checkpoint, folder / CHECKPOINTS)
    (folder / PUBLIC_KEY).write_text(signer.verifier().key_string() + "\n", encoding="utf-8")
    (folder / CHECKPOINT).write_text(checkpoint.note, encoding="utf-8")  # last: marks completion
    return ExportResult(
        folder, tenant_id, checkpoint.size, bytes(checkpoint.root_hash), stored, written
    )


def _claim_folder(folder: Path) -> None:
    """Create the folder, refusing one with content: an export is never mixed with another."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InvalidInput(f"{folder} exists and is not an empty folder; choose a new one")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CHECKPOINTS).mkdir()


def _write_events(session: Session, tenant_id: str, size: int, path: Path) -> int:
    """Write leaves 0..size-1, one line each; refuse a gap, which only tampering can cause."""
    written = 0
    with path.open("wb") as out:
        while written < size:
            query = (
                select(AuditEvent.seq, AuditEvent.leaf)
                .where(AuditEvent.tenant_id == tenant_id, AuditEvent.seq >= written)
                .where(AuditEvent.seq < size)
                .order_by(AuditEvent.seq)
                .limit(BATCH)
            )
            written = _write_batch(out, session.execute(query).all(), written)
    return path.stat().st_size


def _write_batch(out: BinaryIO, rows: Sequence[tuple[int, str]], start: int) -> int:
    lines = []
    for expected, (seq, leaf) in enumerate(rows, start=start):
        if seq != expected or "\n" in leaf:
            problem = "is missing" if seq != expected else "holds a newline"
            raise LedgerCorruption(f"event {expected} {problem}; run 'trustplane audit fsck'")
        lines.append(leaf)
    if not lines:
        raise LedgerCorruption(f"event {start} is missing; run 'trustplane audit fsck'")
    out.write(("\n".join(lines) + "\n").encode("utf-8"))
    return start + len(lines)


def _write_checkpoints(
    session: Session, tenant_id: str, latest: LedgerCheckpoint, folder: Path
) -> int:
    """Write every stored checkpoint up to ``latest`` as ``checkpoints/<size>``."""
    count, after = 0, None
    while page := ledger_checkpoints.list_checkpoints(session, tenant_id, after, BATCH):
        for checkpoint in page:
            if checkpoint.size <= latest.size:
                (folder / str(checkpoint.size)).write_text(checkpoint.note, encoding="utf-8")
                count += 1
        after = page[-1].size
        if after >= latest.size:
            break
    if not (folder / str(latest.size)).exists():  # signed by a transaction this one cannot see
        (folder / str(latest.size)).write_text(latest.note, encoding="utf-8")
        count += 1
    return count
