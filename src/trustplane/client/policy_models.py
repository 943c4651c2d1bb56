"""Typed results of the policy, decision, sign-off and waiver routes, as the SDK sees them.

They mirror the server's shapes without importing them (the SDK runs without the server) and,
like every result, ignore fields they do not know.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from trustplane.client.models import ApiModel


class PolicyTestResult(ApiModel):
    """One ``test_*`` rule of a bundle: passed, failed, or failed with an error."""

    name: str
    passed: bool
    error: str | None = None


class PolicyTestReport(ApiModel):
    """What compiling and testing a bundle found; ``error`` holds a compile error's place."""

    digest: str
    compiled: bool
    error: str | None = None
    passed: int
    failed: int
    tests: list[PolicyTestResult]


class PolicyBundleRead(ApiModel):
    digest: str
    description: str
    tests_passed: int
    tests_failed: int
    forced: bool
    created_at: datetime | None = None
    created_by: str
    active: bool = False
    shipped: bool = False
    files: dict[str, str] | None = None


class PolicyActivationRead(ApiModel):
    id: str
    digest: str
    previous_digest: str
    requested_by: str
    approved_by: str | None = None
    at: datetime


class ActivationRequestRead(ApiModel):
    id: str
    digest: str
    reason: str
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None


class ActivationOutcome(ApiModel):
    """Either the activation (done) or the request waiting for a second person."""

    activated: PolicyActivationRead | None = None
    pending: ActivationRequestRead | None = None
    test_report: PolicyTestReport | None = None


class ViolationRead(ApiModel):
    """A rule the facts break, what fixes it and who owns the fix (``waiver_id`` if waived)."""

    id: str
    message: str
    remediation: str = ""
    owner_role: str = ""
    waiver_id: str | None = None


class SignoffNeed(ApiModel):
    """A sign-off still missing, and the role to route the request to."""

    role: str
    rule_id: str
    message: str


class DecisionRead(ApiModel):
    """A policy decision. ``id`` is None for an evaluation that was not recorded."""

    id: str | None = None
    checkpoint: str
    allowed: bool
    violations: list[ViolationRead]
    waived: list[ViolationRead]
    missing_signoffs: list[SignoffNeed] = Field(default_factory=list)
    bundle_digest: str
    input_digest: str
    duration_ms: float
    model_version_id: str | None = None
    environment: str | None = None
    actor_id: str
    at: datetime
    event_id: str | None = None
    input: dict[str, Any] | None = None


class ReplayRead(ApiModel):
    decision_id: str
    same: bool
    original: DecisionRead
    replayed: DecisionRead
    differences: list[str]


class ApprovalRead(ApiModel):
    """A sign-off, bound to the artifact digest it was given for."""

    id: str
    model_version_id: str
    environment: str | None = None
    artifact_digest: str
    decision: str
    role: str
    principal_id: str
    principal_name: str
    comment: str
    at: datetime
    event_id: str


class SignoffOutcome(ApiModel):
    """The sign-off recorded, and the policy's view of the release afterwards."""

    approval: ApprovalRead
    decision: DecisionRead


class WaiverRead(ApiModel):
    id: str
    model_version_id: str
    environment: str
    rule_ids: list[str]
    reason: str
    compensating_control: str
    expires_at: datetime
    review_at: datetime
    status: str
    valid: bool
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_comment: str | None = None
    expired_at: datetime | None = None
    review_required: bool


class SweepRead(ApiModel):
    expired: list[WaiverRead]
    flagged_for_review: list[str] = Field(default_factory=list)


class CodificationCandidate(ApiModel):
    rule_id: str
    waivers: int
    versions: int
    since: datetime


class WaiverReport(ApiModel):
    """Rules waived often enough that the policy should say so itself."""

    window_days: int
    threshold: int
    candidates: list[CodificationCandidate]


class PolicyDenial(ApiModel):
    """The members of a 409 ``policy-denied`` problem: why the step was refused."""

    decision_id: str | None = None
    bundle_digest: str | None = None
    environment: str | None = None
    violations: list[ViolationRead] = Field(default_factory=list)
    waived: list[ViolationRead] = Field(default_factory=list)
    missing_signoffs: list[SignoffNeed] = Field(default_factory=list)
