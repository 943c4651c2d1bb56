"""Datasets, features, runs and models over the API, with the bad input the issue lists."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.factories import add_member, bootstrap_tenant
from tests.registry.kit import API, Team, build, dataset_version, digest, make_team, ok


@pytest.fixture
def team(client: TestClient, tenant: TenantCtx) -> Team:
    return make_team(client, tenant)


@pytest.fixture
def other_tenant(session_factory: sessionmaker[Session]) -> TenantCtx:
    return bootstrap_tenant(session_factory)


def _count(client: TestClient, path: str, headers: dict[str, str]) -> int:
    return len(ok(client.get(f"{API}{path}", params={"limit": 500}, headers=headers))["items"])


def test_datasets_register_version_approve_flag(client: TestClient, team: Team) -> None:
    h = team.steward.headers
    ds = ok(
        client.post(
            f"{API}/datasets",
            json={"name": "loans", "namespace": "s3://lake", "owner": "data"},
            headers=h,
        ),
        201,
    )
    assert ds["id"].startswith("ds_") and ds["namespace"] == "s3://lake"
    plain = ok(client.post(f"{API}/datasets", json={"name": "loans"}, headers=h), 201)
    assert plain["namespace"] == "trustplane"
    duplicate = client.post(
        f"{API}/datasets", json={"name": "loans", "namespace": "s3://lake"}, headers=h
    )
    assert duplicate.status_code == 409
    listed = ok(client.get(f"{API}/datasets", params={"namespace": "s3://lake"}, headers=h))
    assert [d["id"] for d in listed["items"]] == [ds["id"]]
    body = {
        "version": "2026-11",
        "uri": "s3://lake/loans/2026-11",
        "digest": digest("loans"),
        "schema": [{"name": "id", "type": "int"}, {"name": "income", "type": "float"}],
        "row_count": 1200,
        "sensitivity": "restricted-personal",
        "region": "uk-south",
    }
    dv = ok(client.post(f"{API}/datasets/{ds['id']}/versions", json=body, headers=h), 201)
    assert dv["schema"] == body["schema"]
    assert (dv["approval_status"], dv["flagged_for_removal"]) == ("pending", False)
    again = client.post(f"{API}/datasets/{ds['id']}/versions", json=body, headers=h)
    assert again.status_code == 409
    trainer_try = client.post(
        f"{API}/dataset-versions/{dv['id']}/approval",
        json={"decision": "approved", "reason": "looks fine"},
        headers=team.trainer.headers,
    )
    assert trainer_try.status_code == 403
    approved = ok(
        client.post(
            f"{API}/dataset-versions/{dv['id']}/approval",
            json={"decision": "approved", "reason": "DPIA signed"},
            headers=h,
        )
    )
    assert (approved["approval_status"], approved["approved_by"]) == ("approved", team.steward.id)
    twice = client.post(
        f"{API}/dataset-versions/{dv['id']}/approval",
        json={"decision": "rejected", "reason": "changed my mind"},
        headers=h,
    )
    assert twice.status_code == 409
    flagged = ok(
        client.post(
            f"{API}/dataset-versions/{dv['id']}/flag", json={"reason": "erasure request"}, headers=h
        )
    )
    assert (flagged["flagged_for_removal"], flagged["flag_reason"]) == (True, "erasure request")
    assert (
        client.post(
            f"{API}/dataset-versions/{dv['id']}/flag", json={"reason": "again"}, headers=h
        ).status_code
        == 409
    )
    versions = ok(client.get(f"{API}/datasets/{ds['id']}/versions", headers=team.trainer.headers))
    assert [v["id"] for v in versions["items"]] == [dv["id"]]
    events = ok(
        client.get(f"{API}/audit/events", params={"target_id": dv["id"]}, headers=team.risk.headers)
    )["items"]
    assert [e["action"] for e in events] == ["dataset.version", "dataset.approve", "dataset.flag"]


@pytest.mark.parametrize(
    "bad",
    [
        "sha256:" + "A" * 64,  # upper case
        "sha256:" + "a" * 63,  # short
        "md5:" + "a" * 32,
        "a" * 64,  # no algorithm
    ],
)
def test_digests_in_the_wrong_format_are_refused(client: TestClient, team: Team, bad: str) -> None:
    ds = ok(client.post(f"{API}/datasets", json={"name": "d"}, headers=team.steward.headers), 201)
    refused = client.post(
        f"{API}/datasets/{ds['id']}/versions",
        json={"version": "1", "uri": "s3://x", "digest": bad},
        headers=team.steward.headers,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "digest"]
    model = ok(client.post(f"{API}/models", json={"name": "m"}, headers=team.trainer.headers), 201)
    refused = client.post(
        f"{API}/models/{model['id']}/versions",
        json={"artifact_digest": bad},
        headers=team.trainer.headers,
    )
    assert refused.status_code == 422
    missing = client.post(
        f"{API}/models/{model['id']}/versions", json={}, headers=team.trainer.headers
    )
    assert missing.status_code == 422
    assert _count(client, f"/models/{model['id']}/versions", team.trainer.headers) == 0


def test_runs_with_unknown_or_wrong_references_write_nothing(
    client: TestClient, team: Team
) -> None:
    h = team.trainer.headers
    dv = dataset_version(client, team.steward.headers)
    before = _count(client, "/runs", h)
    unknown = client.post(f"{API}/runs", json={"inputs": [dv, "dv_01JNOTHERE"]}, headers=h)
    assert unknown.status_code == 404
    assert unknown.json()["reference"] == "dv_01JNOTHERE"
    wrong_kind = client.post(f"{API}/runs", json={"outputs": ["fv_01X"]}, headers=h)
    assert wrong_kind.status_code == 400
    cycle = client.post(f"{API}/runs", json={"inputs": [dv], "outputs": [dv]}, headers=h)
    assert cycle.status_code == 400 and "cycle" in cycle.json()["detail"]
    bad_sha = client.post(f"{API}/runs", json={"commit_sha": "not-a-sha"}, headers=h)
    assert bad_sha.status_code == 422
    assert _count(client, "/runs", h) == before


def test_runs_record_links_and_external_ids(client: TestClient, team: Team) -> None:
    h = team.trainer.headers
    dv_in = dataset_version(client, team.steward.headers)
    dv_out = dataset_version(client, team.steward.headers)
    body = {
        "job_namespace": "ci",
        "job_name": "train-credit",
        "external_run_id": "gh-123",
        "code_repo": "https://git.example/credit",
        "commit_sha": "c" * 40,
        "env_fingerprint": digest("uv.lock"),
        "parameters": {"lr": 0.1, "depth": 6},
        "metrics": {"auc": 0.93},
        "inputs": [dv_in],
        "outputs": [dv_out],
        "artifacts": [{"name": "model.pkl", "digest": digest("pkl")}],
        "started_at": "2026-11-01T10:00:00Z",
        "ended_at": "2026-11-01T10:30:00Z",
    }
    run = ok(client.post(f"{API}/runs", json=body, headers=h), 201)
    assert (run["inputs"], run["outputs"], run["actor_id"]) == ([dv_in], [dv_out], team.trainer.id)
    assert ok(client.get(f"{API}/runs/{run['id']}", headers=h)) == run
    assert client.post(f"{API}/runs", json=body, headers=h).status_code == 409
    listed = ok(client.get(f"{API}/runs", params={"job_name": "train-credit"}, headers=h))
    assert [r["id"] for r in listed["items"]] == [run["id"]]
    backwards = client.post(
        f"{API}/runs",
        json={"started_at": "2026-11-01T10:00:00Z", "ended_at": "2026-11-01T09:00:00Z"},
        headers=h,
    )
    assert backwards.status_code == 400


def test_features_define_version_review_deprecate(client: TestClient, team: Team) -> None:
    h = team.engineer.headers
    dv = dataset_version(client, team.steward.headers)
    ft = ok(
        client.post(f"{API}/features", json={"name": "debt_ratio", "owner": "risk"}, headers=h), 201
    )
    assert client.post(f"{API}/features", json={"name": "debt_ratio"}, headers=h).status_code == 409
    unknown = client.post(
        f"{API}/features/debt_ratio/versions",
        json={
            "version": "1",
            "definition": "debt / income",
            "source_dataset_versions": ["dv_01NO"],
        },
        headers=h,
    )
    assert unknown.status_code == 404
    fv = ok(
        client.post(
            f"{API}/features/debt_ratio/versions",
            json={
                "version": "1",
                "definition": "debt / income",
                "source_columns": ["debt", "income"],
                "source_dataset_versions": [dv],
            },
            headers=h,
        ),
        201,
    )
    assert fv["source_dataset_versions"] == [dv] and fv["feature_id"] == ft["id"]
    fv2 = ok(
        client.post(
            f"{API}/features/{ft['id']}/versions",
            json={"version": "2", "definition": "debt / (income + 1)"},
            headers=h,
        ),
        201,
    )
    reviewed = ok(
        client.post(
            f"{API}/feature-versions/{fv['id']}/review",
            json={"decision": "approved", "reason": "checked leakage"},
            headers=team.validator.headers,
        )
    )
    assert (reviewed["review_status"], reviewed["reviewed_by"]) == ("approved", team.validator.id)
    one = ok(
        client.post(
            f"{API}/feature-versions/{fv2['id']}/deprecate", json={"reason": "bug"}, headers=h
        )
    )
    assert (one["deprecated"], one["deprecation_reason"]) == (True, "bug")
    rest = ok(
        client.post(
            f"{API}/features/debt_ratio/deprecate", json={"reason": "retired source"}, headers=h
        )
    )
    assert [v["id"] for v in rest] == [fv["id"]]
    assert (
        client.post(
            f"{API}/features/debt_ratio/deprecate", json={"reason": "again"}, headers=h
        ).status_code
        == 409
    )
    listed = ok(client.get(f"{API}/features/debt_ratio/versions", headers=team.trainer.headers))
    assert all(v["deprecated"] for v in listed["items"])


def test_models_versions_tags_and_pages(client: TestClient, team: Team) -> None:
    h = team.trainer.headers
    model = ok(
        client.post(
            f"{API}/models",
            json={
                "name": "credit-score",
                "owner": "credit",
                "intended_use": "loan decisions",
                "out_of_scope_uses": ["employment"],
                "risk_tier": "high",
                "business_unit": "retail",
                "regulatory_tags": ["eu-ai-act:high-risk"],
            },
            headers=h,
        ),
        201,
    )
    assert client.post(f"{API}/models", json={"name": "credit-score"}, headers=h).status_code == 409
    bad_tier = client.post(f"{API}/models", json={"name": "x", "risk_tier": "extreme"}, headers=h)
    assert bad_tier.status_code == 422
    created = []
    for i in range(3):
        response = client.post(
            f"{API}/models/credit-score/versions",
            json={
                "artifact_digest": digest(f"m{i}"),
                "evaluations": [
                    {"name": "auc", "passed": True, "value": 0.9, "threshold": 0.8},
                    {
                        "name": "dp",
                        "passed": True,
                        "value": 0.02,
                        "metric": "demographic_parity",
                        "group": "age>60",
                    },
                ],
            },
            headers=h,
        )
        assert response.status_code == 201
        assert response.headers["etag"] == response.json()["etag"]
        created.append(response.json())
    assert [c["version"] for c in created] == [1, 2, 3]
    page = ok(client.get(f"{API}/models/credit-score/versions", params={"limit": 2}, headers=h))
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = ok(
        client.get(
            f"{API}/models/credit-score/versions",
            params={"limit": 2, "cursor": page["next_cursor"]},
            headers=h,
        )
    )
    assert [v["version"] for v in page["items"] + rest["items"]] == [1, 2, 3]
    by_number = client.get(f"{API}/models/credit-score/versions/2", headers=h)
    assert by_number.json()["id"] == created[1]["id"]
    assert by_number.headers["etag"] == created[1]["etag"]
    assert client.get(f"{API}/models/credit-score/versions/9", headers=h).status_code == 404
    tagged = ok(
        client.put(
            f"{API}/model-versions/{created[0]['id']}/tags/team", json={"value": "risk"}, headers=h
        )
    )
    assert tagged["tags"] == {"team": "risk"}
    assert tagged["etag"] == created[0]["etag"]  # a tag is not a lifecycle change
    drafts = ok(
        client.get(f"{API}/models/credit-score/versions", params={"state": "draft"}, headers=h)
    )
    assert len(drafts["items"]) == 3
    high = ok(client.get(f"{API}/models", params={"risk_tier": "high"}, headers=h))
    assert model["id"] in [m["id"] for m in high["items"]]


def test_cross_tenant_references_are_404(
    client: TestClient, team: Team, other_tenant: TenantCtx
) -> None:
    built = build(client, team)
    intruder = add_member(client, other_tenant, "trainer", "data-steward")
    h = intruder.headers
    assert client.get(f"{API}/models/{built.model_id}", headers=h).status_code == 404
    assert client.get(f"{API}/models/{built.model_name}", headers=h).status_code == 404
    assert client.get(f"{API}/runs/{built.run_id}", headers=h).status_code == 404
    assert (
        client.get(f"{API}/dataset-versions/{built.dataset_version_id}", headers=h).status_code
        == 404
    )
    borrowed = client.post(f"{API}/runs", json={"inputs": [built.dataset_version_id]}, headers=h)
    assert borrowed.status_code == 404
    own = ok(client.post(f"{API}/models", json={"name": "mine"}, headers=h), 201)
    foreign_run = client.post(
        f"{API}/models/{own['id']}/versions",
        json={"artifact_digest": digest("z"), "run_id": built.run_id},
        headers=h,
    )
    assert foreign_run.status_code == 404
    flag = client.post(
        f"{API}/dataset-versions/{built.dataset_version_id}/flag",
        json={"reason": "mine now"},
        headers=h,
    )
    assert flag.status_code == 404
    assert _count(client, "/runs", h) == 0
