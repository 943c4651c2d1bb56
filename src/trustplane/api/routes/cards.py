"""Model cards: one version's recorded facts as Markdown, HTML or JSON.

The card is generated on each request from what the registry and the audit trail hold, so it
is never stale and never says more than was recorded (see docs/model-cards.md).
"""

from __future__ import annotations

from typing import Literal

from fastapi import Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from trustplane.api.deps import Require, get_session
from trustplane.api.routing import domain_router
from trustplane.evidence.cards import version_card
from trustplane.identity.actor import Actor
from trustplane.identity.roles import Permission

router = domain_router(tags=["model cards"])

MARKDOWN = "text/markdown; charset=utf-8"
CardFormat = Literal["markdown", "html", "json"]


@router.get(
    "/model-versions/{version_id}/card",
    response_class=Response,
    responses={
        200: {
            "description": "The card, in the format asked for.",
            "content": {
                "text/markdown": {},
                "text/html": {},
                "application/json": {
                    "example": {"facts": {"schema": "trustplane.model-card/v1"}, "markdown": "#"}
                },
            },
        }
    },
)
def model_card(
    version_id: str,
    card_format: CardFormat = Query(
        default="markdown",
        alias="format",
        description="markdown (default), html, or json (the facts and the markdown).",
    ),
    actor: Actor = Require(Permission.MODEL_READ),
    session: Session = Depends(get_session),
) -> Response:
    """The model card of a version: ``version_id`` is an id (``mv_...``) or ``MODEL@N``."""
    card = version_card(session, actor, version_id)
    if card_format == "html":
        return HTMLResponse(card.html)
    if card_format == "json":
        return JSONResponse({"facts": card.facts, "markdown": card.markdown})
    return Response(card.markdown, media_type=MARKDOWN)
