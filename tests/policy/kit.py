"""Building blocks for policy tests: a high-risk version ready for release, over the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TenantCtx
from tests.factories import Member, add_member
from tests.registry.kit import API, Built, Team, act, build, make_team, ok

HIGH_RISK = {"risk_tier": "high", "out_of_scope_uses": ["marketing"]}


def evaluations(gap: float = 0.02) -> list[dict[str, Any]]:
    """Evaluation results of a high-risk version: AUC, and a fairness metric by group."""
    return [
        {"name": "auc-holdout", "passed": True, "value": 0.9, "metric": "auc"},
        {"name": "tpr-female", "passed": True, "value": 0.80, "metric": "tpr", "group": "f"},
        {"name": "tpr-male", "passed": True, "value": 0.80 + gap, "metric": "tpr", "group": "m"},
    ]


@dataclass
class Release:
    """A team with a second release approver, and a high-risk version in state approved."""

    team: Team
    second: Member
    built: Built
    etag: str


def release_team(client: TestClient, tenant: TenantCtx) -> tuple[Team, Member]:
    return make_team(client, tenant), add_member(client, tenant, "release-approver")


def approved(
    client: TestClient, team: Team, second: Member, *, gap: float = 0.02, **model: Any
) -> Release:
    """Submitted by the trainer, validated, approved (a sign-off for every environment)."""
    built = build(client, team, model_extra={**HIGH_RISK, **model}, evaluations=evaluations(gap))
    etag = built.etag
    for action, member in (
        ("submit", team.trainer),
        ("validate", team.validator),
        ("approve", team.approver),
    ):
        etag = ok(act(client, member.headers, built.version_id, action, etag))["etag"]
    return Release(team, second, built, etag)


def sign_off(
    client: TestClient, member: Member, version_id: str, env: str = "prod", **body: Any
) -> Any:
    payload = {"environment": env, "comment": "reviewed the evidence", **body}
    return client.post(
        f"{API}/model-versions/{version_id}/approvals", json=payload, headers=member.headers
    )


def promote(client: TestClient, release: Release, env: str = "prod", **body: Any) -> Any:
    return act(
        client,
        release.team.deployer.headers,
        release.built.version_id,
        "promote",
        release.etag,
        environment=env,
        **body,
    )
