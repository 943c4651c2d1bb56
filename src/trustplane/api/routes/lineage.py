"""Lineage routes: OpenLineage ingest and the graph queries. Thin: each declares its
permission and calls one service function.

Ingest reads the body itself because OpenLineage clients may gzip it (``Content-Encoding:
gzip``): the compressed body is bounded by the app's body limit, the decompressed one by the
same limit here, so a small "zip bomb" cannot expand without bound.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from fastapi import Depends, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session

from trustplane.api.deps import Cursor, Limit, Require, get_session
from trustplane.api.problems import PayloadTooLarge, problem
from trustplane.api.routing import domain_router
from trustplane.errors import InvalidInput
from trustplane.identity.actor import Actor
from trustplane.identity.roles import Permission
from trustplane.lineage import attention, ingest, queries, received
from trustplane.lineage.completeness import completeness
from trustplane.lineage.impact import impact as impact_of
from trustplane.lineage.openlineage import RunEvent
from trustplane.lineage.schemas import (
    DEFAULT_DEPTH,
    DEFAULT_NODES,
    MAX_DEPTH,
    MAX_NODES,
    AffectedVersion,
    CompletenessRead,
    GraphKind,
    GraphRead,
    ImpactRead,
    IngestResult,
    PathRead,
    ReceivedEventRead,
)
from trustplane.paging import Page

router = domain_router(tags=["lineage"])
P = Permission
NODE_HELP = "dataset:NAMESPACE:NAME, job:NAMESPACE:NAME, or an id (dv_, fv_, run_, mv_, ds_...)"
JSON_TYPES = ("application/json", "text/json")


def Node() -> Any:  # noqa: N802
    return Query(min_length=1, max_length=1100, description=NODE_HELP)


def Depth() -> Any:  # noqa: N802
    return Query(default=DEFAULT_DEPTH, ge=1, le=MAX_DEPTH, description="Edges to follow.")


def MaxNodes() -> Any:  # noqa: N802
    return Query(default=DEFAULT_NODES, ge=1, le=MAX_NODES, description="Most nodes to list.")


@router.post(
    "/lineage",
    status_code=status.HTTP_201_CREATED,
    response_model=IngestResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "An OpenLineage RunEvent, optionally with Content-Encoding: gzip.",
            "content": {"application/json": {"schema": RunEvent.model_json_schema()}},
        }
    },
)
async def ingest_openlineage(
    request: Request,
    actor: Actor = Require(P.LINEAGE_WRITE),
    session: Session = Depends(get_session),
) -> Any:
    """Record an OpenLineage RunEvent (as the openlineage-python HTTP transport sends it)."""
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind not in JSON_TYPES:
        return problem(
            415,
            "unsupported-media-type",
            f"send the event as application/json, not '{kind}'",
            request=request,
        )
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip"):
        return problem(
            415,
            "unsupported-media-type",
            f"Content-Encoding '{encoding}' is not supported; send gzip or no encoding",
            request=request,
        )
    body = await request.body()
    limit: int = request.app.state.settings.max_body_bytes
    return await run_in_threadpool(_ingest, session, actor, body, encoding != "identity", limit)


def _ingest(session: Session, actor: Actor, body: bytes, gzipped: bool, limit: int) -> Any:
    data = gunzip(body, limit) if gzipped else body
    event, raw = parse_event(data)
    return ingest.ingest(session, actor, event, raw)


def gunzip(body: bytes, limit: int) -> bytes:
    """Decompress a gzip body (every member), refusing more than ``limit`` bytes of output."""
    out = bytearray()
    rest = body
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(rest, limit + 1 - len(out))
        except zlib.error as exc:
            raise InvalidInput(f"the body is not valid gzip ({exc})") from None
        if len(out) > limit or inflater.unconsumed_tail:
            raise PayloadTooLarge(f"the decompressed body exceeds the limit of {limit} bytes")
        if not inflater.eof:
            raise InvalidInput("the gzip body is truncated")
        rest = inflater.unused_data
        if not rest:
            return bytes(out)


def parse_event(data: bytes) -> tuple[RunEvent, Any]:
    """The validated event and its JSON as received; errors answer like any request body."""
    try:
        raw = json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "invalid JSON"}]
        ) from None
    try:
        return RunEvent.model_validate_json(data), raw
    except ValidationError as exc:
        errors = [
            {"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
        raise RequestValidationError(errors) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@router.get("/lineage/events")
def received_events(
    actor: Actor = Require(P.LINEAGE_READ),
    session: Session = Depends(get_session),
    run_uuid: str | None = Query(default=None, max_length=64, description="OpenLineage runId"),
    job_namespace: str | None = Query(default=None, max_length=500),
    job_name: str | None = Query(default=None, max_length=500),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[ReceivedEventRead]:
    """The OpenLineage events received, oldest first (bodies: read one event)."""
    items, nxt = received.page(
        session,
        actor,
        run_uuid=run_uuid,
        job_namespace=job_namespace,
        job_name=job_name,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=nxt)


@router.get("/lineage/events/{event_id}")
def received_event(
    event_id: str, actor: Actor = Require(P.LINEAGE_READ), session: Session = Depends(get_session)
) -> ReceivedEventRead:
    """One received event, with its body exactly as it was sent."""
    return received.get(session, actor, event_id)


@router.get("/lineage/upstream")
def upstream(
    node: str = Node(),
    depth: int = Depth(),
    max_nodes: int = MaxNodes(),
    actor: Actor = Require(P.LINEAGE_READ),
    session: Session = Depends(get_session),
) -> GraphRead:
    """What ``node`` was made from, up to ``depth`` edges away."""
    return queries.walk_graph(session, actor, node, "upstream", depth, max_nodes)


@router.get("/lineage/downstream")
def downstream(
    node: str = Node(),
    depth: int = Depth(),
    max_nodes: int = MaxNodes(),
    actor: Actor = Require(P.LINEAGE_READ),
    session: Session = Depends(get_session),
) -> GraphRead:
    """What was made from ``node``, up to ``depth`` edges away."""
    return queries.walk_graph(session, actor, node, "downstream", depth, max_nodes)


@router.get("/lineage/show")
def show(
    node: str = Node(),
    max_nodes: int = MaxNodes(),
    actor: Actor = Require(P.LINEAGE_READ),
    session: Session = Depends(get_session),
) -> GraphRead:
    """The node and its direct neighbours on both sides."""
    return queries.show(session, actor, node, max_nodes)


@router.get("/lineage/impact")
def impact(
    node: str = Node(),
    kind: GraphKind | None = Query(default=None, description="Only nodes of this kind."),
    in_production: bool = Query(
        default=False, description="Only model versions a production pointer serves."
    ),
    actor: Actor = Require(P.LINEAGE_READ),
    session: Session = Depends(get_session),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> ImpactRead:
    """Everything derived from ``node`` at any distance, one page at a time (id order), with
    totals per node kind and the number of production pointers reached."""
    return impact_of(
        session, actor, node, kind=kind, in_production=in_production, cursor=cursor, limit=limit
    )


@router.get("/lineage/path")
def path(
    node: str = Node(),
    depth: int = Depth(),
    actor: Actor = Require(P.LINEAGE_READ),
    session: Session = Depends(get_session),
) -> PathRead:
    """Every path from a raw source to ``node`` (one node: a version or run id)."""
    return queries.path(session, actor, node, depth)


@router.get("/lineage/completeness")
def lineage_completeness(
    node: str = Node(),
    actor: Actor = Require(P.LINEAGE_READ),
    session: Session = Depends(get_session),
) -> list[CompletenessRead]:
    """Which expected lineage links a model version (or each version of a model) has."""
    return completeness(session, actor, node)


@router.get("/lineage/deprecated-features")
def deprecated_features(
    feature: str | None = Query(default=None, max_length=100, description="ft_ or fv_ id."),
    actor: Actor = Require(P.LINEAGE_READ),
    session: Session = Depends(get_session),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[AffectedVersion]:
    """Model versions trained on a deprecated feature version, with where they serve."""
    items, nxt = attention.on_deprecated_features(session, actor, feature, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.get("/lineage/flagged-datasets")
def flagged_datasets(
    dataset: str | None = Query(default=None, max_length=1100, description=NODE_HELP),
    actor: Actor = Require(P.LINEAGE_READ),
    session: Session = Depends(get_session),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[AffectedVersion]:
    """Model versions that used a dataset version flagged for removal, with where they serve."""
    items, nxt = attention.on_flagged_datasets(session, actor, dataset, cursor, limit)
    return Page(items=items, next_cursor=nxt)
