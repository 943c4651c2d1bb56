"""Building blocks for registry tests: a model version with complete evidence, over the API."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TenantCtx
from tests.factories import Member, add_member, unique

API = "/api/v1"


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def ok(response: Any, status: int = 200) -> Any:
    """The JSON body of ``response``, after checking its status."""
    assert response.status_code == status, response.text
    return response.json()


@dataclass
class Team:
    """One member per registry role of a tenant (each holds only that role)."""

    tenant: TenantCtx
    steward: Member
    engineer: Member
    trainer: Member
    validator: Member
    approver: Member
    deployer: Member
    risk: Member
    everything: Member  # holds every registry role: reaches the state checks of any action


def make_team(client: TestClient, tenant: TenantCtx) -> Team:
    def member(role: str) -> Member:
        return add_member(client, tenant, role)

    return Team(
        tenant,
        member("data-steward"),
        member("feature-engineer"),
        member("trainer"),
        member("validator"),
        member("release-approver"),
        member("deployer"),
        member("risk-officer"),
        add_member(
            client,
            tenant,
            "data-steward",
            "trainer",
            "validator",
            "release-approver",
            "deployer",
            "risk-officer",
        ),
    )


@dataclass
class Built:
    model_id: str
    model_name: str
    version_id: str
    etag: str
    run_id: str
    dataset_version_id: str


def dataset_version(client: TestClient, headers: dict[str, str], **extra: Any) -> str:
    ds = ok(client.post(f"{API}/datasets", json={"name": unique("ds")}, headers=headers), 201)
    body = {"version": "v1", "uri": "s3://lake/x", "digest": digest(unique("d")), **extra}
    dv = ok(client.post(f"{API}/datasets/{ds['id']}/versions", json=body, headers=headers), 201)
    return str(dv["id"])


def run(client: TestClient, headers: dict[str, str], inputs: list[str], **extra: Any) -> str:
    body = {
        "code_repo": "https://git.example/ml",
        "commit_sha": "a" * 40,
        "env_fingerprint": digest("uv.lock"),
        "inputs": inputs,
        "metrics": {"auc": 0.91},
        **extra,
    }
    return str(ok(client.post(f"{API}/runs", json=body, headers=headers), 201)["id"])


def model(client: TestClient, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    body = {
        "name": unique("model"),
        "owner": "credit-team",
        "intended_use": "score loan applications",
        "risk_tier": "medium",
        **extra,
    }
    created: dict[str, Any] = ok(client.post(f"{API}/models", json=body, headers=headers), 201)
    return created


def approve_dataset(client: TestClient, headers: dict[str, str], version_id: str) -> None:
    body = {"decision": "approved", "reason": "reviewed for training"}
    ok(client.post(f"{API}/dataset-versions/{version_id}/approval", json=body, headers=headers))


def build(client: TestClient, team: Team, *, model_extra: Any = None, **version: Any) -> Built:
    """A draft version whose evidence is complete for a medium-risk model, trained on an
    approved dataset version: the default policy lets it through once signed off."""
    dv = dataset_version(client, team.steward.headers)
    approve_dataset(client, team.steward.headers, dv)
    h = team.trainer.headers
    run_id = run(client, h, [dv])
    m = model(client, h, **(model_extra or {}))
    body = {"artifact_digest": digest(unique("a")), "run_id": run_id, "metrics": {"auc": 0.9}}
    mv = ok(
        client.post(f"{API}/models/{m['id']}/versions", json={**body, **version}, headers=h), 201
    )
    return Built(m["id"], m["name"], mv["id"], mv["etag"], run_id, dv)


def act(
    client: TestClient,
    headers: dict[str, str],
    version_id: str,
    action: str,
    etag: str | None,
    **body: Any,
) -> Any:
    h = dict(headers)
    if etag is not None:
        h["If-Match"] = etag
    payload = {"intent": f"test {action}", **body}
    return client.post(f"{API}/model-versions/{version_id}/{action}", json=payload, headers=h)
