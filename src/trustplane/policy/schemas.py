"""Policy request and response shapes. Inputs forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from trustplane.identity.schemas import Input, Output

Checkpoint = Literal["submit", "approve", "promote", "deploy"]
CHECKPOINTS: tuple[str, ...] = ("submit", "approve", "promote", "deploy")
Comment = Annotated[str, StringConstraints(min_length=3, max_length=4000, strip_whitespace=True)]
RuleId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
EnvName = Annotated[str, StringConstraints(min_length=1, max_length=63)]


class BundlePush(Input):
    files: dict[str, str] = Field(description="relative path -> file text: .rego files, data.json")
    description: Annotated[str, Field(max_length=2000)] = ""
    activate: bool = False
    force: bool = Field(
        default=False, description="store even though the bundle's tests fail (audited)"
    )
    reason: Annotated[str, Field(max_length=2000)] = ""


class TestResultRead(Output):
    name: str
    passed: bool
    error: str | None = None


class TestReportRead(Output):
    digest: str
    compiled: bool
    error: str | None
    passed: int
    failed: int
    tests: list[TestResultRead]


class BundleRead(Output):
    digest: str
    description: str
    tests_passed: int
    tests_failed: int
    forced: bool
    created_at: datetime | None
    created_by: str
    active: bool = False
    shipped: bool = False
    files: dict[str, str] | None = None


class ActivationCreate(Input):
    reason: Annotated[str, Field(max_length=2000)] = ""


class ActivationRead(Output):
    id: str
    digest: str
    previous_digest: str
    requested_by: str
    approved_by: str | None
    at: datetime


class ActivationRequestRead(Output):
    id: str
    digest: str
    reason: str
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None


class ActivationOutcome(Output):
    """Either the activation (done) or the request waiting for a second person."""

    activated: ActivationRead | None = None
    pending: ActivationRequestRead | None = None
    test_report: TestReportRead | None = None


class ViolationRead(Output):
    id: str
    message: str
    remediation: str = ""
    owner_role: str = ""
    waiver_id: str | None = None


class SignoffNeed(Output):
    """A sign-off still missing, and the role that must give it (routing the request)."""

    role: str
    rule_id: str
    message: str


class DecisionRead(Output):
    id: str | None
    checkpoint: str
    allowed: bool
    violations: list[ViolationRead]
    waived: list[ViolationRead]
    missing_signoffs: list[SignoffNeed] = []
    bundle_digest: str
    input_digest: str
    duration_ms: float
    model_version_id: str | None
    environment: str | None
    actor_id: str
    at: datetime
    event_id: str | None
    input: dict[str, Any] | None = None


class ReplayRead(Output):
    decision_id: str
    same: bool
    original: DecisionRead
    replayed: DecisionRead
    differences: list[str]


class ApprovalCreate(Input):
    environment: EnvName
    decision: Literal["approve", "reject"] = "approve"
    comment: Comment
    artifact_digest: Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")] | None = (
        Field(default=None, description="the digest being signed; must be the version's")
    )


class ApprovalRead(Output):
    id: str
    model_version_id: str
    environment: str | None
    artifact_digest: str
    decision: str
    role: str
    principal_id: str
    principal_name: str
    comment: str
    at: datetime
    event_id: str


class SignoffOutcome(Output):
    approval: ApprovalRead
    decision: DecisionRead


class WaiverCreate(Input):
    model_version_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    environment: EnvName
    rule_ids: list[RuleId] = Field(min_length=1, max_length=20)
    reason: Comment
    compensating_control: Comment
    expires_at: AwareDatetime
    review_at: AwareDatetime | None = Field(
        default=None, description="when to review the waiver; halfway to expiry if unset"
    )


class WaiverDecide(Input):
    comment: Comment


class WaiverRead(Output):
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
    decided_by: str | None
    decided_at: datetime | None
    decision_comment: str | None
    expired_at: datetime | None
    review_required: bool


class SweepRead(Output):
    expired: list[WaiverRead]
    flagged_for_review: list[str] = Field(description="model version ids flagged for review")


class CodificationCandidate(Output):
    rule_id: str
    waivers: int
    versions: int
    since: datetime


class WaiverReport(Output):
    window_days: int
    threshold: int
    candidates: list[CodificationCandidate]


class PolicyEvalRequest(Input):
    model: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    version: int = Field(ge=1)
    target: EnvName
    checkpoint: Literal["promote", "deploy"] = "promote"
