"""Lineage response shapes (the OpenLineage request shape lives in ``openlineage.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Side = Literal["root", "upstream", "downstream"]
GraphKind = Literal["dataset_version", "feature_version", "run", "model_version"]
Detail = str | int | bool | None

DEFAULT_DEPTH = 20
MAX_DEPTH = 100
DEFAULT_NODES = 500
MAX_NODES = 10_000


class NodeRead(BaseModel):
    """One node of a lineage answer: what it is, how far from the query's root, and details
    that depend on its kind (dataset name and version, model name and state...)."""

    id: str
    kind: str
    label: str
    side: Side = "root"
    depth: int | None = Field(default=0, description="Edges from the root; null if not computed.")
    details: dict[str, Detail] = Field(default_factory=dict)


class EdgeRead(BaseModel):
    source: str
    target: str
    relation: str


class GraphRead(BaseModel):
    """A walk from ``root`` (the nodes the reference named); ``nodes`` includes the root and
    ``edges`` are all the edges between two listed nodes.

    ``truncated`` says the answer was cut at ``max_nodes`` or nodes lie beyond ``depth``.
    """

    root: list[NodeRead]
    direction: Literal["upstream", "downstream", "both"]
    depth: int
    nodes: list[NodeRead]
    edges: list[EdgeRead]
    truncated: bool


class ViaRead(BaseModel):
    """A node an affected version derives from; ``reason`` says why it needs attention
    (deprecation or removal reason), when it does."""

    id: str
    label: str
    reason: str | None = None


class AffectedVersion(BaseModel):
    """A model version downstream of something that needs attention, and through what."""

    model_version_id: str
    model_id: str
    model_name: str
    version: int
    state: str
    production_environments: list[str]
    via: list[ViaRead]


class ImpactNode(BaseModel):
    """A node derived from the impact's root: what it is, where it serves (a model version's
    production environments) and which of the root nodes it derives from."""

    id: str
    kind: str
    label: str
    details: dict[str, Detail] = Field(default_factory=dict)
    production_environments: list[str] = Field(
        default_factory=list,
        description="Environments where this model version is the production version.",
    )
    via: list[ViaRead] = Field(description="The root nodes this node derives from.")


class ImpactRead(BaseModel):
    """One page of everything derived from ``root`` (any distance), in id order.

    ``counts`` (derived nodes per kind) and ``production_pointers`` (pointers serving a derived
    model version) are totals over the whole answer, whatever the filters; ``items`` is the
    page and ``next_cursor`` fetches the next one (null on the last page).
    """

    root: list[NodeRead]
    counts: dict[str, int]
    production_pointers: int
    items: list[ImpactNode]
    next_cursor: str | None = None


class PathRead(BaseModel):
    """How a node came to be: every path from a raw source (a node with nothing upstream)
    to ``root``, each listed source first."""

    root: NodeRead
    sources: list[NodeRead]
    paths: list[list[str]]
    nodes: list[NodeRead]
    edges: list[EdgeRead]
    truncated: bool


class CheckRead(BaseModel):
    name: str
    present: bool
    detail: str


class CompletenessRead(BaseModel):
    """Which expected lineage links a model version has; ``score`` is present / expected."""

    model_version_id: str
    model_id: str
    model_name: str
    version: int
    score: float
    present: list[str]
    missing: list[str]
    checks: list[CheckRead]


class IngestResult(BaseModel):
    """What one OpenLineage event became; ``duplicate`` means it had been received before
    (same runId, eventType and eventTime) and nothing was written this time."""

    event_id: str
    run_id: str
    run_uuid: str
    event_type: str | None
    job_namespace: str
    job_name: str
    inputs: list[str]
    outputs: list[str]
    duplicate: bool


class ReceivedEventRead(BaseModel):
    """An OpenLineage event as Trustplane received it, and what it became in the registry.
    ``event`` (the body verbatim) is given when one event is read, not in lists."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    run_uuid: str
    event_type: str | None
    event_time: datetime
    job_namespace: str
    job_name: str
    producer: str
    run_id: str
    inputs: list[str]
    outputs: list[str]
    body_sha256: str
    received_at: datetime
    received_by: str
    event: dict[str, Any] | None = None
