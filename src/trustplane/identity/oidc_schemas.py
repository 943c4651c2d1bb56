"""Request and response shapes of OIDC workload identity. Inputs forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OidcIssuerCreate(Input):
    """A trusted issuer: exactly one of ``jwks`` (inline) and ``jwks_path`` (server file)."""

    issuer: Text = Field(description="The exact 'iss' of its tokens (https; http for localhost).")
    audience: Text = Field(description="The 'aud' its tokens must carry for this tenant.")
    jwks: dict[str, Any] | None = Field(default=None, description="Public keys (a JWKS).")
    jwks_path: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="Absolute path of a JWKS file on the server, read at every verification.",
    )


class OidcIssuerRead(BaseModel):
    id: str
    issuer: str
    audience: str
    jwks_source: Literal["inline", "file"]
    jwks_path: str | None
    key_ids: list[str] = Field(description="Key ids of the usable keys (file: as read now).")
    created_at: datetime
    created_by: str
    disabled_at: datetime | None


class ClaimCondition(Input):
    """One claim test: the claim must be a string equal to, or glob-matching, ``value``."""

    claim: str = Field(min_length=1, max_length=200)
    match: Literal["equals", "glob"]
    value: str = Field(min_length=1, max_length=1000)


class OidcRuleCreate(Input):
    issuer_id: str = Field(min_length=1, max_length=64)
    service_account_id: str = Field(min_length=1, max_length=64)
    conditions: list[ClaimCondition] = Field(min_length=1, max_length=20)
    description: str = Field(default="", max_length=2000)


class OidcRuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    issuer_id: str
    service_account_id: str
    conditions: list[ClaimCondition]
    description: str
    created_at: datetime
    created_by: str
    disabled_at: datetime | None
