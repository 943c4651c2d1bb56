"""Typed results of the release routes, as the SDK sees them (no server import)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from trustplane.client.models import ApiModel


class ReleaseRead(ApiModel):
    """A release: one promotion of a model version to an environment."""

    id: str
    model: str
    model_id: str
    version: int
    model_version_id: str
    environment: str
    region: str | None = None
    artifact_digest: str
    actor_id: str
    actor_name: str
    intent: str
    at: datetime
    event_id: str


class ReleaseStory(ApiModel):
    """The release as the registry records it: the sections of docs/evidence.md."""

    release: dict[str, Any]
    model: dict[str, Any]
    training: dict[str, Any]
    checks: dict[str, Any]
    decisions: list[dict[str, Any]]
    approvals: list[dict[str, Any]]
    waivers: list[dict[str, Any]]
    after: list[dict[str, Any]]
