"""Releases and their evidence: the list, one release's story, its signed bundle, the key.

A bundle holds the release's audit events, so it needs ``audit.read`` like the events
themselves; the list and the story need ``model.read``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Path, Query
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session

from trustplane.api.deps import Cursor, Limit, Require, get_session, get_settings
from trustplane.api.routes.audit import get_signer
from trustplane.api.routing import domain_router
from trustplane.audit.notes import Signer
from trustplane.config import Settings
from trustplane.evidence import bundle, dsse, releases
from trustplane.evidence.schemas import ReleaseRead, ReleaseStoryRead
from trustplane.identity.actor import Actor
from trustplane.identity.roles import Permission
from trustplane.paging import Page

router = domain_router(tags=["evidence"])
ReleaseId = Path(max_length=40)


@router.get("/releases")
def list_releases(
    actor: Actor = Require(Permission.MODEL_READ),
    session: Session = Depends(get_session),
    model: str | None = Query(default=None, max_length=200),
    environment: str | None = Query(default=None, max_length=63),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[ReleaseRead]:
    """Releases (promotions of a version to an environment), oldest first."""
    items, nxt = releases.page(
        session, actor, model_ref=model, environment=environment, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=nxt)


@router.get("/releases/{release_id}")
def get_release(
    release_id: str = ReleaseId,
    actor: Actor = Require(Permission.MODEL_READ),
    session: Session = Depends(get_session),
) -> ReleaseStoryRead:
    """The release's story as the registry records it."""
    return ReleaseStoryRead(**releases.story(session, actor, release_id))


@router.get("/releases/{release_id}/evidence")
def release_evidence(
    release_id: str = ReleaseId,
    actor: Actor = Require(Permission.AUDIT_READ),
    session: Session = Depends(get_session),
    signer: Signer = Depends(get_signer),
    settings: Settings = Depends(get_settings),
) -> dict[str, Any]:
    """The release's evidence bundle: a DSSE envelope over an in-toto statement."""
    return bundle.build(session, actor, release_id, signer, settings.ledger_name)


@router.get("/evidence/public-key", response_class=PlainTextResponse)
def evidence_public_key(
    _: Actor = Require(Permission.AUDIT_READ), signer: Signer = Depends(get_signer)
) -> str:
    """The PEM (SubjectPublicKeyInfo) key that verifies bundles and checkpoints."""
    return dsse.public_pem(dsse.public_key_of(signer.verifier())).decode("ascii")
