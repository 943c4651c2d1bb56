"""Signed tree heads: C2SP checkpoints of each tenant's ledger, signed and stored insert-only.

A checkpoint is the note text ``<origin>\\n<size>\\n<base64 root>\\n`` signed with the
installation's Ed25519 key (https://c2sp.org/tlog-checkpoint). The origin names the tenant's
ledger, ``<ledger_name>/ledger/<tenant id>``, so a checkpoint of one tenant can never pass for
another's. Signing a checkpoint writes no audit event: an event would grow the very tree the
checkpoint signs. There is at most one checkpoint per tenant and size.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from trustplane.audit import keys, notes
from trustplane.audit.ledger import tree_head
from trustplane.audit.models import LedgerCheckpoint, LedgerHead
from trustplane.audit.notes import Signer
from trustplane.config import Settings
from trustplane.db.base import utcnow
from trustplane.db.session import (
    begin_write,
    is_writer,
    scope_to_tenant,
    system_scope,
    unit_of_work,
)

log = logging.getLogger("trustplane.audit.checkpoints")


def origin_for(ledger_name: str, tenant_id: str) -> str:
    """The checkpoint origin line of a tenant's ledger."""
    return f"{ledger_name}/ledger/{tenant_id}"


def signer_from_settings(settings: Settings) -> Signer:
    """The installation's signing key: loaded, or created with mode 0600 on first use."""
    return keys.load_or_create_signer(settings.signing_key_path, settings.ledger_name)


def create_checkpoint(
    session: Session, tenant_id: str, signer: Signer, ledger_name: str
) -> LedgerCheckpoint:
    """Sign and store the tenant's current tree head; the existing one if its size is stored.

    Holds the ledger head lock until the transaction ends, so concurrent callers (several
    server processes) sign each size once. An empty ledger gets a checkpoint too, of the
    RFC 9162 empty root.
    """
    size, root = tree_head(session, tenant_id, lock=True)
    existing = session.scalar(
        select(LedgerCheckpoint).where(
            LedgerCheckpoint.tenant_id == tenant_id, LedgerCheckpoint.size == size
        )
    )
    if existing is not None:
        return existing
    body = notes.Checkpoint(origin_for(ledger_name, tenant_id), size, root)
    checkpoint = LedgerCheckpoint(
        tenant_id=tenant_id,
        size=size,
        root_hash=root,
        note=notes.sign_checkpoint(body, signer),
        created_at=utcnow(),
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def latest_checkpoint(session: Session, tenant_id: str) -> LedgerCheckpoint | None:
    """The tenant's largest stored checkpoint, if any."""
    return session.scalar(
        select(LedgerCheckpoint)
        .where(LedgerCheckpoint.tenant_id == tenant_id)
        .order_by(LedgerCheckpoint.size.desc())
        .limit(1)
    )


def list_checkpoints(
    session: Session, tenant_id: str, after_size: int | None, limit: int
) -> list[LedgerCheckpoint]:
    """Stored checkpoints in size order, after ``after_size`` (exclusive)."""
    query = select(LedgerCheckpoint).where(LedgerCheckpoint.tenant_id == tenant_id)
    if after_size is not None:
        query = query.where(LedgerCheckpoint.size > after_size)
    return list(session.scalars(query.order_by(LedgerCheckpoint.size).limit(limit)))


def latest_or_create(
    session: Session, tenant_id: str, signer: Signer, ledger_name: str
) -> LedgerCheckpoint:
    """The latest checkpoint; for a ledger that has none yet, sign one now.

    A reading session (no write lock) signs in a short transaction of its own, committed at
    once, so a read request never holds the database write lock.
    """
    latest = latest_checkpoint(session, tenant_id)
    if latest is not None:
        return latest
    return fresh_checkpoint(session, tenant_id, signer, ledger_name)


def fresh_checkpoint(
    session: Session, tenant_id: str, signer: Signer, ledger_name: str
) -> LedgerCheckpoint:
    """A checkpoint of the ledger as it is now, signed if its size has none yet.

    A writer session signs in its own transaction (holding the ledger head lock until the
    caller commits); any other session has it signed in a short transaction of its own,
    committed at once, so appends never wait for a reader.
    """
    if is_writer(session):
        return create_checkpoint(session, tenant_id, signer, ledger_name)
    with Session(bind=session.get_bind(), expire_on_commit=False) as side:
        scope_to_tenant(side, tenant_id)
        begin_write(side)
        checkpoint = create_checkpoint(side, tenant_id, signer, ledger_name)
        side.commit()
    return checkpoint


def grown_ledgers(session: Session) -> list[str]:
    """Tenants whose ledger grew since its latest checkpoint (or that have none), every
    tenant's: the session must be in system scope."""
    latest = (
        select(func.max(LedgerCheckpoint.size))
        .where(LedgerCheckpoint.tenant_id == LedgerHead.tenant_id)
        .scalar_subquery()
    )
    query = (
        select(LedgerHead.tenant_id)
        .where(or_(latest.is_(None), LedgerHead.size > latest))
        .order_by(LedgerHead.tenant_id)
    )
    return list(session.scalars(query))


def checkpoint_grown_ledgers(
    factory: sessionmaker[Session], signer: Signer, ledger_name: str
) -> int:
    """Sign a checkpoint for every ledger that grew; returns how many were signed.

    Each tenant is signed in its own transaction, so one failure (logged) spares the others.
    """
    with factory() as session, system_scope(session):
        tenants = grown_ledgers(session)
    signed = 0
    for tenant_id in tenants:
        try:
            with unit_of_work(factory) as session:
                scope_to_tenant(session, tenant_id)
                create_checkpoint(session, tenant_id, signer, ledger_name)
        except Exception:
            log.exception("checkpoint failed", extra={"tenant_id": tenant_id})
            continue
        signed += 1
    return signed
