"""A released high-risk version with a full story: a denial, a waiver, dual sign-off."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TenantCtx
from tests.policy.kit import Release, approved, promote, release_team, sign_off
from tests.registry.kit import API, ok
from trustplane.audit import notes

GAP_RULE = "TP-FAIRNESS-GAP"


@dataclass
class Released:
    release: Release
    release_id: str
    denied_decision: str

    @property
    def version_id(self) -> str:
        return self.release.built.version_id


def released(client: TestClient, tenant: TenantCtx) -> Released:
    """Denied at first (a fairness gap, one sign-off missing), then waived, signed off by a
    second approver, and promoted to prod."""
    team, second = release_team(client, tenant)
    release = approved(client, team, second, gap=0.3)
    denied = promote(client, release)
    assert denied.status_code == 409, denied.text
    waiver = {
        "model_version_id": release.built.version_id,
        "environment": "prod",
        "rule_ids": [GAP_RULE],
        "reason": "the gap comes from a small group; retraining is scheduled",
        "compensating_control": "monthly manual review of outcomes by group",
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
    }
    asked = ok(client.post(f"{API}/waivers", json=waiver, headers=team.trainer.headers), 201)
    body = {"comment": "compensating control is adequate"}
    ok(client.post(f"{API}/waivers/{asked['id']}/approve", json=body, headers=team.risk.headers))
    ok(sign_off(client, second, release.built.version_id), 201)
    ok(promote(client, release, category="business-request"))
    listed = ok(
        client.get(
            f"{API}/releases",
            params={"model": release.built.model_name},
            headers=tenant.admin_headers,
        )
    )
    assert len(listed["items"]) == 1
    return Released(release, listed["items"][0]["id"], denied.json()["decision_id"])


def evidence(client: TestClient, tenant: TenantCtx, release_id: str) -> bytes:
    response = client.get(f"{API}/releases/{release_id}/evidence", headers=tenant.admin_headers)
    assert response.status_code == 200, response.text
    return response.content


def public_pem(client: TestClient, tenant: TenantCtx) -> bytes:
    response = client.get(f"{API}/evidence/public-key", headers=tenant.admin_headers)
    assert response.status_code == 200, response.text
    return response.content


def signer_of(client: TestClient) -> notes.Signer:
    app: Any = client.app
    signer: notes.Signer = app.state.signer
    return signer


def statement_of(envelope: bytes) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(base64.b64decode(json.loads(envelope)["payload"]))
    return body
