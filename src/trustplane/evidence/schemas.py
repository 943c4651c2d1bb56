"""What the evidence API answers: releases, and the bundle's public key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class ReleaseRead(BaseModel):
    """A release: one promotion of a model version to an environment (its transition)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    model: str
    model_id: str
    version: int
    model_version_id: str
    environment: str
    region: str | None
    artifact_digest: str
    actor_id: str
    actor_name: str
    intent: str
    at: datetime
    event_id: str


class ReleaseStoryRead(BaseModel):
    """The release as the registry records it (docs/evidence.md, "The release story")."""

    release: dict[str, Any]
    model: dict[str, Any]
    training: dict[str, Any]
    checks: dict[str, Any]
    decisions: list[dict[str, Any]]
    approvals: list[dict[str, Any]]
    waivers: list[dict[str, Any]]
    after: list[dict[str, Any]]
