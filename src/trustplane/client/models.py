"""Typed results of the Trustplane API, as the SDK sees them.

These mirror the server's response shapes without importing them: the SDK must install and
run without the server. Unknown fields are ignored so that a newer server never breaks an
older client, and each parsed result keeps the exact JSON it came from (``api_json``), so the
CLI can print what the API said rather than a re-rendering of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, PrivateAttr

T = TypeVar("T")


class ApiModel(BaseModel):
    """Base of every result: lenient about new fields, remembers its original JSON."""

    model_config = ConfigDict(extra="ignore")

    _raw: Any = PrivateAttr(default=None)

    @classmethod
    def from_api(cls, data: Any) -> Self:
        parsed = cls.model_validate(data)
        parsed._raw = data
        return parsed

    def api_json(self) -> Any:
        """The JSON the server answered with (a dump of the model if built locally)."""
        return self._raw if self._raw is not None else self.model_dump(mode="json")


class Page(ApiModel, Generic[T]):
    """One page of a list; ``next_cursor`` is None on the last page."""

    items: list[T]
    next_cursor: str | None = None


class TenantRead(ApiModel):
    id: str
    name: str
    display_name: str
    created_at: datetime


class EnvironmentRead(ApiModel):
    id: str
    name: str
    region: str
    sensitivity_ceiling: str
    description: str
    created_at: datetime


class PrincipalRead(ApiModel):
    id: str
    kind: str
    name: str
    display_name: str
    email: str | None = None
    description: str = ""
    disabled_at: datetime | None = None
    created_at: datetime
    created_by: str


class TokenRead(ApiModel):
    """Token metadata; the secret is never stored server-side, so it cannot be read again."""

    id: str
    principal_id: str
    name: str
    prefix: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class TokenIssued(TokenRead):
    """Returned once, at creation: the only time the secret is shown."""

    token: str


class BindingRead(ApiModel):
    id: str
    principal_id: str
    role: str
    environment_id: str | None = None
    expires_at: datetime | None = None
    reason: str
    granted_by: str
    created_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None
    last_used_at: datetime | None = None


class RoleRead(ApiModel):
    name: str
    description: str
    permissions: list[str]
    sensitive: bool
    tenant_wide_only: bool


class GrantRead(ApiModel):
    role: str
    environment_id: str | None = None
    binding_id: str


class WhoAmI(ApiModel):
    principal_id: str
    name: str
    kind: str
    auth_method: str
    tenant_id: str | None = None
    tenant_name: str | None = None
    grants: list[GrantRead]
    permissions: list[str]


class BootstrapResult(ApiModel):
    tenant: TenantRead
    admin: PrincipalRead
    environments: list[EnvironmentRead]
    token: TokenIssued


class ReviewFinding(ApiModel):
    binding: BindingRead
    principal_name: str
    reasons: list[str]


class AccessReview(ApiModel):
    generated_at: datetime
    expiring_within_days: int
    unused_for_days: int
    findings: list[ReviewFinding]


class EventActor(ApiModel):
    id: str
    name: str
    kind: str
    auth: str


class EventTarget(ApiModel):
    kind: str
    id: str
    name: str | None = None


class EventOrigin(ApiModel):
    ip: str | None = None
    user_agent: str | None = None


class AuditEventRead(ApiModel):
    """An event exactly as recorded in its ledger leaf."""

    v: int
    id: str
    tenant: str
    seq: int
    time: datetime
    actor: EventActor
    environment: str | None = None
    action: str
    target: EventTarget
    digests: list[str]
    outcome: str
    reason: str | None = None
    correlation_id: str
    intent: str | None = None
    origin: EventOrigin
    payload: dict[str, Any]


class CheckpointRead(ApiModel):
    """A signed tree head of the tenant's ledger; ``note`` is the C2SP signed checkpoint note.

    Hashes are standard base64. Verify ``note`` with the ledger's public key before trusting
    ``size`` or ``root_hash``.
    """

    origin: str
    size: int
    root_hash: str
    note: str
    created_at: datetime


class InclusionProof(ApiModel):
    """RFC 9162 inclusion proof of one event: ``leaf`` is its exact leaf data; hashes base64."""

    event_id: str
    index: int
    tree_size: int
    leaf: str
    leaf_hash: str
    audit_path: list[str]
    root_hash: str


class ConsistencyProof(ApiModel):
    """RFC 9162 consistency proof between tree sizes ``first`` and ``second``; hashes base64."""

    first: int
    second: int
    proof: list[str]
    first_root: str
    second_root: str


class OidcCondition(ApiModel):
    """One claim test of a trust rule; every condition of a rule must hold."""

    claim: str
    match: str = "equals"
    value: str


class OidcIssuerRead(ApiModel):
    id: str
    issuer: str
    audience: str
    jwks_source: str
    jwks_path: str | None = None
    key_ids: list[str]
    created_at: datetime
    created_by: str
    disabled_at: datetime | None = None


class OidcRuleRead(ApiModel):
    id: str
    issuer_id: str
    service_account_id: str
    conditions: list[OidcCondition]
    description: str = ""
    created_at: datetime
    created_by: str
    disabled_at: datetime | None = None


# -- lineage ---------------------------------------------------------------------------------


class LineageNode(ApiModel):
    """A node of a lineage answer; ``details`` depend on ``kind`` (dataset name and version,
    model name and state...). ``depth`` is null where the query does not compute it."""

    id: str
    kind: str
    label: str
    side: str = "root"
    depth: int | None = 0
    details: dict[str, Any] = {}


class LineageEdge(ApiModel):
    source: str
    target: str
    relation: str


class LineageGraph(ApiModel):
    root: list[LineageNode]
    direction: str
    depth: int
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: bool


class LineageVia(ApiModel):
    """What an affected version derives from, and why that needs attention."""

    id: str
    label: str
    reason: str | None = None


class LineageAffectedVersion(ApiModel):
    model_version_id: str
    model_id: str
    model_name: str
    version: int
    state: str
    production_environments: list[str]
    via: list[LineageVia]


class LineageImpactNode(ApiModel):
    """A node derived from the impact's root; ``production_environments`` is where a model
    version serves, ``via`` the root nodes it derives from."""

    id: str
    kind: str
    label: str
    details: dict[str, Any] = {}
    production_environments: list[str] = []
    via: list[LineageVia] = []


class LineageImpact(Page[LineageImpactNode]):
    """One page of an impact answer; ``counts`` (per node kind) and ``production_pointers``
    are totals over the whole answer."""

    root: list[LineageNode]
    counts: dict[str, int]
    production_pointers: int


class LineagePath(ApiModel):
    root: LineageNode
    sources: list[LineageNode]
    paths: list[list[str]]
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: bool


class LineageCheck(ApiModel):
    name: str
    present: bool
    detail: str


class LineageCompleteness(ApiModel):
    model_version_id: str
    model_id: str
    model_name: str
    version: int
    score: float
    present: list[str]
    missing: list[str]
    checks: list[LineageCheck]


class OpenLineageResult(ApiModel):
    """What one OpenLineage event became (``duplicate``: received before, nothing written)."""

    event_id: str
    run_id: str
    run_uuid: str
    event_type: str | None = None
    job_namespace: str
    job_name: str
    inputs: list[str]
    outputs: list[str]
    duplicate: bool


class LineageReceivedEvent(ApiModel):
    """An OpenLineage event as the server received it; ``event`` (the body) only when one
    event is read."""

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
