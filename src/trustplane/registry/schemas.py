"""Registry request and response shapes. Inputs forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from trustplane.identity.schemas import Input, Output, Sensitivity

DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
Digest = Annotated[str, StringConstraints(pattern=DIGEST_PATTERN)]
Name = Annotated[
    str,
    StringConstraints(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        min_length=1,
        max_length=200,
        strip_whitespace=True,
    ),
]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Namespace = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
Intent = Annotated[str, StringConstraints(min_length=3, max_length=2000, strip_whitespace=True)]
Text = Annotated[str, Field(max_length=4000)]
Limitation = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]
RiskTier = Literal["low", "medium", "high", "critical"]
Decision = Literal["approved", "rejected"]
RunStatus = Literal["running", "completed", "failed", "aborted"]
DEFAULT_NAMESPACE = "trustplane"


class Column(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    type: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class DatasetCreate(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
    namespace: Namespace = DEFAULT_NAMESPACE
    description: Text = ""
    owner: Label | None = None


class DatasetRead(Output):
    id: str
    namespace: str
    name: str
    description: str
    owner: str | None
    created_at: datetime
    created_by: str


class DatasetVersionCreate(Input):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    version: Label
    uri: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    digest: Digest
    columns: list[Column] = Field(default_factory=list, alias="schema", max_length=2000)
    row_count: int | None = Field(default=None, ge=0)
    sensitivity: Sensitivity = "internal"
    region: Label | None = None


class DatasetVersionRead(Output):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: str
    dataset_id: str
    version: str
    uri: str | None
    digest: str | None
    columns: list[dict[str, Any]] = Field(alias="schema")
    row_count: int | None
    sensitivity: str
    region: str | None
    approval_status: str
    approved_by: str | None
    approved_at: datetime | None
    approval_reason: str | None
    flagged_for_removal: bool
    flag_reason: str | None
    flagged_at: datetime | None
    flagged_by: str | None
    created_at: datetime
    created_by: str


class ReviewDecision(Input):
    """A data steward's or reviewer's answer, with the reason recorded in the audit event."""

    decision: Decision
    reason: Intent


class FlagRequest(Input):
    reason: Intent


class FeatureCreate(Input):
    name: Name
    description: Text = ""
    owner: Label | None = None


class FeatureRead(Output):
    id: str
    name: str
    description: str
    owner: str | None
    created_at: datetime
    created_by: str


class FeatureVersionCreate(Input):
    version: Label
    definition: Annotated[str, StringConstraints(min_length=1, max_length=20000)]
    source_columns: list[Label] = Field(default_factory=list, max_length=500)
    source_dataset_versions: list[str] = Field(default_factory=list, max_length=500)
    owner: Label | None = None


class FeatureVersionRead(Output):
    id: str
    feature_id: str
    version: str
    definition: str
    source_columns: list[str]
    source_dataset_versions: list[str] = []
    owner: str | None
    review_status: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    deprecated: bool
    deprecation_reason: str | None
    deprecated_at: datetime | None
    deprecated_by: str | None
    created_at: datetime
    created_by: str


class Artifact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Label
    uri: Annotated[str, StringConstraints(max_length=2000)] | None = None
    digest: Digest


class RunCreate(Input):
    job_namespace: Namespace | None = None
    job_name: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    external_run_id: Label | None = None
    code_repo: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    commit_sha: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{7,64}$")] | None = None
    env_fingerprint: Label | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    inputs: list[str] = Field(default_factory=list, max_length=1000)
    outputs: list[str] = Field(default_factory=list, max_length=1000)
    artifacts: list[Artifact] = Field(default_factory=list, max_length=1000)
    status: RunStatus = "completed"
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None


class RunRead(Output):
    id: str
    job_namespace: str | None
    job_name: str | None
    external_run_id: str | None
    code_repo: str | None
    commit_sha: str | None
    env_fingerprint: str | None
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    artifacts: list[dict[str, Any]]
    inputs: list[str] = []
    outputs: list[str] = []
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    actor_id: str
    created_at: datetime


class ModelCreate(Input):
    name: Name
    description: Text = ""
    owner: Label | None = None
    intended_use: Text | None = None
    out_of_scope_uses: list[Label] = Field(default_factory=list, max_length=100)
    limitations: list[Limitation] = Field(default_factory=list, max_length=100)
    risk_tier: RiskTier | None = None
    business_unit: Label | None = None
    regulatory_tags: list[Label] = Field(default_factory=list, max_length=100)


class ModelRead(Output):
    id: str
    name: str
    description: str
    owner: str | None
    intended_use: str | None
    out_of_scope_uses: list[str]
    limitations: list[str]
    risk_tier: str | None
    business_unit: str | None
    regulatory_tags: list[str]
    latest_version: int
    created_at: datetime
    created_by: str


class Evaluation(BaseModel):
    """A named test result: pass or fail with its value, optionally for one group (fairness)."""

    model_config = ConfigDict(extra="forbid")

    name: Label
    passed: bool
    value: float | None = None
    threshold: float | None = None
    metric: Label | None = None
    group: Label | None = None


class ModelVersionCreate(Input):
    artifact_digest: Digest
    artifact_uri: Annotated[str, StringConstraints(max_length=2000)] | None = None
    run_id: str | None = None
    description: Text = ""
    metrics: dict[str, float] = Field(default_factory=dict)
    evaluations: list[Evaluation] = Field(default_factory=list, max_length=1000)
    tags: dict[str, Annotated[str, StringConstraints(max_length=1000)]] = Field(
        default_factory=dict
    )


class ModelVersionRead(Output):
    id: str
    model_id: str
    version: int
    artifact_digest: str
    artifact_uri: str | None
    run_id: str | None
    description: str
    metrics: dict[str, Any]
    evaluations: list[dict[str, Any]]
    tags: dict[str, str]
    state: str
    production_in: list[str] = Field(
        default=[], description="Environments where this version is the production pointer."
    )
    validated_by: str | None
    validated_at: datetime | None
    etag: str
    created_at: datetime
    created_by: str
    updated_at: datetime


class TagValue(Input):
    value: Annotated[str, StringConstraints(max_length=1000)]


PromotionCategory = Literal["drift", "data-refresh", "business-request", "risk-review", "incident"]


class TransitionRequest(Input):
    """Why this transition: recorded on the transition and its audit event."""

    intent: Intent
    category: PromotionCategory | None = Field(
        default=None, description="promote: why, as a category the policy can read"
    )
    justification: Text = ""
    environment: Annotated[str, StringConstraints(min_length=1, max_length=63)] | None = None
    replaces: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = Field(
        default=None,
        description="promote only: the version id expected in production in the environment"
        " now, or 'none'; anything else answers 412 (guards racing promotions of different"
        " versions).",
    )


class TransitionRead(Output):
    id: str
    model_id: str
    model_version_id: str
    action: str
    from_state: str
    to_state: str
    environment: str | None = None
    actor_id: str
    actor_name: str
    intent: str
    at: datetime
    event_id: str


class PointerRead(BaseModel):
    model_id: str
    environment: str
    model_version_id: str | None
    version: int | None
    valid_from: datetime | None
    valid_to: datetime | None = None


class CompletenessReport(BaseModel):
    risk_tier: str | None
    required: list[str]
    present: list[str]
    missing: list[str]
    complete: bool


class CompletenessRuleSet(Input):
    required: list[str] = Field(max_length=50)


class CompletenessRuleRead(BaseModel):
    risk_tier: str
    required: list[str]
    source: Literal["default", "tenant"]
