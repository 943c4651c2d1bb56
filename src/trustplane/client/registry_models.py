"""Typed results of the registry API (datasets, features, runs, models), as the SDK sees them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from trustplane.client.models import ApiModel


class DatasetRead(ApiModel):
    id: str
    namespace: str
    name: str
    description: str
    owner: str | None
    created_at: datetime
    created_by: str


class DatasetVersionRead(ApiModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    dataset_id: str
    version: str
    uri: str | None
    digest: str | None
    columns: list[dict[str, Any]] = Field(default_factory=list, alias="schema")
    row_count: int | None
    sensitivity: str
    region: str | None
    approval_status: str
    approved_by: str | None
    approved_at: datetime | None
    flagged_for_removal: bool
    flag_reason: str | None
    flagged_at: datetime | None
    created_at: datetime


class FeatureRead(ApiModel):
    id: str
    name: str
    description: str
    owner: str | None
    created_at: datetime


class FeatureVersionRead(ApiModel):
    id: str
    feature_id: str
    version: str
    definition: str
    source_columns: list[str]
    source_dataset_versions: list[str]
    owner: str | None
    review_status: str
    deprecated: bool
    deprecation_reason: str | None
    deprecated_at: datetime | None
    created_at: datetime


class RunRead(ApiModel):
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
    inputs: list[str]
    outputs: list[str]
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    actor_id: str
    created_at: datetime


class ModelRead(ApiModel):
    id: str
    name: str
    description: str
    owner: str | None
    intended_use: str | None
    out_of_scope_uses: list[str]
    limitations: list[str] = Field(default_factory=list)  # older servers do not send it
    risk_tier: str | None
    business_unit: str | None
    regulatory_tags: list[str]
    latest_version: int
    created_at: datetime


class ModelVersionRead(ApiModel):
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
    production_in: list[str]
    etag: str
    created_at: datetime
    updated_at: datetime


class TransitionRead(ApiModel):
    id: str
    model_id: str
    model_version_id: str
    action: str
    from_state: str
    to_state: str
    environment: str | None
    actor_id: str
    actor_name: str
    intent: str
    at: datetime
    event_id: str


class PointerRead(ApiModel):
    model_id: str
    environment: str
    model_version_id: str | None
    version: int | None
    valid_from: datetime | None
    valid_to: datetime | None = None


class CompletenessReport(ApiModel):
    risk_tier: str | None
    required: list[str]
    present: list[str]
    missing: list[str]
    complete: bool


class CompletenessRuleRead(ApiModel):
    risk_tier: str
    required: list[str]
    source: str
