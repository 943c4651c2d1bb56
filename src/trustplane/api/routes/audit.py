"""Audit trail routes: events, signed checkpoints, proofs and the ledger's public key.

Hashes in checkpoint and proof responses are standard base64 (with padding), as in the signed
checkpoint note; indices and sizes follow RFC 9162 (0-based leaf index, size in leaves).
"""

from __future__ import annotations

from fastapi import Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import AwareDatetime
from sqlalchemy.orm import Session

from trustplane.api.deps import Cursor, Limit, Require, get_session, get_settings
from trustplane.api.routing import domain_router
from trustplane.audit import service
from trustplane.audit.keys import verifier_key_string
from trustplane.audit.notes import Signer
from trustplane.audit.schemas import (
    AuditEventFilter,
    AuditEventRead,
    CheckpointRead,
    ConsistencyProofRead,
    InclusionProofRead,
)
from trustplane.config import Settings
from trustplane.identity.actor import Actor
from trustplane.identity.roles import Permission
from trustplane.paging import Page

router = domain_router(tags=["audit"])


async def get_signer(request: Request) -> Signer:
    """The checkpoint signer the app loaded at start-up."""
    signer: Signer = request.app.state.signer
    return signer


@router.get("/audit/events")
def audit_events(
    actor: Actor = Require(Permission.AUDIT_READ),
    session: Session = Depends(get_session),
    actor_id: str | None = Query(default=None, alias="actor", max_length=64),
    action: str | None = Query(default=None, max_length=64),
    target_kind: str | None = Query(default=None, max_length=40),
    target_id: str | None = Query(default=None, max_length=200),
    correlation_id: str | None = Query(default=None, max_length=128),
    outcome: str | None = Query(default=None, pattern="^(allowed|denied)$"),
    since: AwareDatetime | None = Query(default=None),
    until: AwareDatetime | None = Query(default=None),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[AuditEventRead]:
    """Events in ledger order (oldest first); the cursor is the last sequence number seen."""
    filters = AuditEventFilter(
        actor=actor_id,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        correlation_id=correlation_id,
        outcome=outcome,
        since=since,
        until=until,
    )
    items, nxt = service.list_events(session, actor, filters, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.get("/audit/checkpoint")
def latest_checkpoint(
    actor: Actor = Require(Permission.AUDIT_READ),
    session: Session = Depends(get_session),
    signer: Signer = Depends(get_signer),
    settings: Settings = Depends(get_settings),
) -> CheckpointRead:
    """The latest signed checkpoint of the tenant's ledger (signed now if there is none)."""
    return service.current_checkpoint(session, actor, signer, settings.ledger_name)


@router.post("/audit/checkpoints", status_code=201)
def create_checkpoint(
    actor: Actor = Require(Permission.AUDIT_CHECKPOINT),
    session: Session = Depends(get_session),
    signer: Signer = Depends(get_signer),
    settings: Settings = Depends(get_settings),
) -> CheckpointRead:
    """Sign the current tree head now; if it is already signed, the stored checkpoint."""
    return service.sign_checkpoint(session, actor, signer, settings.ledger_name)


@router.get("/audit/checkpoints")
def list_checkpoints(
    actor: Actor = Require(Permission.AUDIT_READ),
    session: Session = Depends(get_session),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[CheckpointRead]:
    """Stored checkpoints, smallest tree size first; the cursor is the last size seen."""
    items, nxt = service.list_checkpoints(session, actor, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.get("/audit/proofs/inclusion")
def inclusion_proof(
    actor: Actor = Require(Permission.AUDIT_READ),
    session: Session = Depends(get_session),
    index: int | None = Query(default=None, description="0-based leaf index (= event seq)."),
    event_id: str | None = Query(default=None, max_length=40),
    tree_size: int | None = Query(default=None, description="Default: the current size."),
) -> InclusionProofRead:
    """RFC 9162 audit path of one event (by index or by id) in the tree of ``tree_size``."""
    return service.inclusion_proof(
        session, actor, index=index, event_id=event_id, tree_size=tree_size
    )


@router.get("/audit/proofs/consistency")
def consistency_proof(
    actor: Actor = Require(Permission.AUDIT_READ),
    session: Session = Depends(get_session),
    first: int = Query(description="The older tree size, at least 1."),
    second: int = Query(description="The newer tree size, at most the current size."),
) -> ConsistencyProofRead:
    """RFC 9162 proof that the tree of ``first`` leaves is a prefix of the tree of ``second``."""
    return service.consistency_proof(session, actor, first, second)


@router.get("/audit/public-key", response_class=PlainTextResponse)
def public_key(
    _actor: Actor = Require(Permission.AUDIT_READ),
    signer: Signer = Depends(get_signer),
) -> PlainTextResponse:
    """The C2SP verifier key (``<name>+<key id>+<base64 key>``) that checks every checkpoint."""
    return PlainTextResponse(verifier_key_string(signer) + "\n")
