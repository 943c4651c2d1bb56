"""Identity request and response shapes. Inputs forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from trustplane.identity.roles import Role

Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", strip_whitespace=True)
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Sensitivity = Literal["public", "internal", "confidential", "restricted-personal"]
SENSITIVITY_ORDER: tuple[str, ...] = ("public", "internal", "confidential", "restricted-personal")


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TenantCreate(Input):
    name: Slug
    display_name: Name | None = None
    admin_name: Name = Field(default="admin", description="The new tenant's first admin user.")
    admin_email: EmailStr | None = None


class TenantRead(Output):
    id: str
    name: str
    display_name: str
    created_at: datetime


class EnvironmentCreate(Input):
    name: Slug
    region: Slug = "uk-south"
    sensitivity_ceiling: Sensitivity = "internal"
    description: str = Field(default="", max_length=2000)


class EnvironmentRead(Output):
    id: str
    name: str
    region: str
    sensitivity_ceiling: str
    description: str
    created_at: datetime


class UserCreate(Input):
    name: Name
    display_name: str = Field(default="", max_length=200)
    email: EmailStr | None = None


class ServiceAccountCreate(Input):
    name: Name
    description: str = Field(default="", max_length=2000)


class PrincipalRead(Output):
    id: str
    kind: str
    name: str
    display_name: str
    email: str | None
    description: str
    disabled_at: datetime | None
    created_at: datetime
    created_by: str


class TokenCreate(Input):
    name: Name = "default"
    principal_id: str | None = Field(default=None, description="Another principal (admins).")
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenRead(Output):
    """Token metadata. The secret is never stored, so it can never be read again."""

    id: str
    principal_id: str
    name: str
    prefix: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenIssued(TokenRead):
    """Returned once, at creation: the only time the secret is shown."""

    token: str


class BindingCreate(Input):
    principal_id: str
    role: Role
    environment: Slug | None = Field(default=None, description="Limit the grant to one env.")
    expires_at: AwareDatetime | None = None
    reason: str = Field(min_length=3, max_length=2000)


class Justification(Input):
    """Why: required on revocations and disablements, recorded in the audit event."""

    reason: str = Field(min_length=3, max_length=2000)


class BindingRead(Output):
    id: str
    principal_id: str
    role: str
    environment_id: str | None
    expires_at: datetime | None
    reason: str
    granted_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None
    last_used_at: datetime | None


class RoleRead(BaseModel):
    name: str
    description: str
    permissions: list[str]
    sensitive: bool
    tenant_wide_only: bool


class GrantRead(BaseModel):
    role: str
    environment_id: str | None
    binding_id: str


class WhoAmI(BaseModel):
    principal_id: str
    name: str
    kind: str
    auth_method: str
    tenant_id: str | None
    tenant_name: str | None
    grants: list[GrantRead]
    permissions: list[str]


class BootstrapResult(BaseModel):
    tenant: TenantRead
    admin: PrincipalRead
    environments: list[EnvironmentRead]
    token: TokenIssued


Finding = Literal["expired", "expiring", "unused", "principal-disabled"]


class ReviewFinding(BaseModel):
    """One binding that needs a reviewer's attention, and why."""

    binding: BindingRead
    principal_name: str
    reasons: list[Finding]


class AccessReview(BaseModel):
    generated_at: datetime
    expiring_within_days: int
    unused_for_days: int
    findings: list[ReviewFinding]
