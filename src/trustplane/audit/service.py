"""Reading the trail, its checkpoints and proofs on behalf of an actor: always the actor's own
tenant."""

from __future__ import annotations

from sqlalchemy.orm import Session

from trustplane.audit import checkpoints, ledger, repository
from trustplane.audit.events import AuditActor
from trustplane.audit.notes import Signer
from trustplane.audit.schemas import (
    AuditEventFilter,
    AuditEventRead,
    CheckpointRead,
    ConsistencyProofRead,
    InclusionProofRead,
)
from trustplane.errors import InvalidInput


def list_events(
    session: Session,
    actor: AuditActor,
    filters: AuditEventFilter,
    cursor: str | None,
    limit: int,
) -> tuple[list[AuditEventRead], str | None]:
    """One page of the actor's tenant's events; the cursor is the last sequence number seen."""
    after = _parse_cursor(cursor, "a sequence number")
    items = repository.list_events(
        session, _tenant(actor), filters, after_seq=after, limit=limit + 1
    )
    if len(items) > limit:
        return items[:limit], str(items[limit - 1].seq)
    return items, None


def current_checkpoint(
    session: Session, actor: AuditActor, signer: Signer, ledger_name: str
) -> CheckpointRead:
    """The latest stored checkpoint (one is signed now if the ledger has none yet)."""
    tenant = _tenant(actor)
    return CheckpointRead.of(checkpoints.latest_or_create(session, tenant, signer, ledger_name))


def sign_checkpoint(
    session: Session, actor: AuditActor, signer: Signer, ledger_name: str
) -> CheckpointRead:
    """A checkpoint of the current tree head (the stored one if the size has not moved)."""
    tenant = _tenant(actor)
    return CheckpointRead.of(checkpoints.create_checkpoint(session, tenant, signer, ledger_name))


def list_checkpoints(
    session: Session, actor: AuditActor, cursor: str | None, limit: int
) -> tuple[list[CheckpointRead], str | None]:
    """One page of stored checkpoints, smallest size first; the cursor is the last size seen."""
    after = _parse_cursor(cursor, "a tree size")
    rows = checkpoints.list_checkpoints(session, _tenant(actor), after, limit + 1)
    items = [CheckpointRead.of(row) for row in rows[:limit]]
    return items, (str(items[-1].size) if len(rows) > limit else None)


def inclusion_proof(
    session: Session,
    actor: AuditActor,
    *,
    index: int | None,
    event_id: str | None,
    tree_size: int | None,
) -> InclusionProofRead:
    proof = ledger.inclusion(
        session, _tenant(actor), index=index, event_id=event_id, tree_size=tree_size
    )
    return InclusionProofRead.of(proof)


def consistency_proof(
    session: Session, actor: AuditActor, first: int, second: int
) -> ConsistencyProofRead:
    return ConsistencyProofRead.of(ledger.consistency(session, _tenant(actor), first, second))


def _tenant(actor: AuditActor) -> str:
    if actor.tenant_id is None:
        raise InvalidInput("the audit trail is per tenant; this actor has none")
    return actor.tenant_id


def _parse_cursor(cursor: str | None, what: str) -> int | None:
    if cursor is None:
        return None
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 18:
        raise InvalidInput(f"cursor must be {what} from a previous page")
    return int(cursor)
