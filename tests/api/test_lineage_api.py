"""The lineage API in process: OpenLineage ingest (plain and gzip), idempotency, bad events,
and the query routes over what ingest recorded."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TenantCtx
from tests.factories import add_member
from tests.lineage.events import dataset, new_run_id, run_event

LINEAGE = "/api/v1/lineage"
RAW = dataset(
    "s3://lake", "raw/orders", [("id", "BIGINT"), ("amount", "DECIMAL")], "s3://lake/raw/orders"
)
USERS = dataset("postgres://db.internal:5432", "shop.public.users", [("id", "BIGINT")])
CLEAN = dataset("s3://lake", "clean/orders", [("id", "BIGINT")], "s3://lake/clean/orders")


@pytest.fixture
def writer(client: TestClient, tenant: TenantCtx) -> dict[str, str]:
    """Headers of a pipeline's service account: lineage.write comes with the trainer role."""
    return add_member(client, tenant, "trainer", kind="service-accounts").headers


def post(client: TestClient, headers: dict[str, str], event: Any, **kwargs: Any) -> Any:
    return client.post(
        LINEAGE,
        content=json.dumps(event).encode(),
        headers={**headers, "Content-Type": "application/json", **kwargs.pop("extra", {})},
        **kwargs,
    )


def problem_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://trustplane.dev/problems/{code}"
    return body


def events_count(client: TestClient, tenant: TenantCtx, action: str) -> int:
    items = client.get(
        "/api/v1/audit/events",
        params={"action": action, "limit": 500},
        headers=tenant.admin_headers,
    ).json()["items"]
    return len(items)


def test_start_then_complete_builds_the_graph(client: TestClient, tenant: TenantCtx) -> None:
    trainer = add_member(client, tenant, "trainer")
    run_id = new_run_id()
    start = post(
        client,
        trainer.headers,
        run_event("START", run_id, inputs=[RAW, USERS], outputs=[CLEAN], commit="a" * 40),
    )
    assert start.status_code == 201, start.text
    started = start.json()
    assert started["duplicate"] is False
    assert started["run_uuid"] == run_id
    assert len(started["inputs"]) == 2 and len(started["outputs"]) == 1
    complete = post(
        client,
        trainer.headers,
        run_event(
            "COMPLETE", run_id, time="2026-05-01T12:05:00Z", inputs=[RAW, USERS], outputs=[CLEAN]
        ),
    )
    assert complete.status_code == 201, complete.text
    done = complete.json()
    assert done["run_id"] == started["run_id"]
    assert done["inputs"] == started["inputs"] and done["outputs"] == started["outputs"]

    run = client.get(f"/api/v1/runs/{done['run_id']}", headers=tenant.admin_headers).json()
    assert (run["job_namespace"], run["job_name"], run["external_run_id"]) == (
        "airflow",
        "etl.clean_orders",
        run_id,
    )
    assert (run["status"], run["commit_sha"], run["code_repo"]) == (
        "completed",
        "a" * 40,
        "https://git.example/data/etl",
    )
    assert run["started_at"].startswith("2026-05-01T12:00:00")
    assert run["ended_at"].startswith("2026-05-01T12:05:00")
    assert sorted(run["inputs"]) == sorted(started["inputs"])
    assert run["outputs"] == started["outputs"]

    # Datasets from OpenLineage are listed with the registered ones.
    listed = client.get(
        "/api/v1/datasets", params={"namespace": "s3://lake"}, headers=tenant.admin_headers
    ).json()["items"]
    assert sorted(d["name"] for d in listed) == ["clean/orders", "raw/orders"]
    version = client.get(
        f"/api/v1/dataset-versions/{started['outputs'][0]}", headers=tenant.admin_headers
    ).json()
    assert version["version"] == f"run-{run_id}"
    assert version["uri"] == "s3://lake/clean/orders"
    assert version["schema"] == [{"name": "id", "type": "BIGINT"}]
    assert version["digest"] is None

    graph = client.get(
        f"{LINEAGE}/downstream",
        params={"node": "dataset:s3://lake:raw/orders"},
        headers=trainer.headers,
    )
    assert graph.status_code == 200, graph.text
    ids = {n["id"]: n for n in graph.json()["nodes"]}
    assert set(ids) == {started["inputs"][0], done["run_id"], started["outputs"][0]}
    assert ids[done["run_id"]]["label"] == "job:airflow:etl.clean_orders"
    by_job = client.get(
        f"{LINEAGE}/upstream",
        params={"node": "job:airflow:etl.clean_orders", "depth": 1},
        headers=trainer.headers,
    ).json()
    assert {n["id"] for n in by_job["nodes"] if n["side"] == "upstream"} == set(started["inputs"])
    assert events_count(client, tenant, "lineage.ingest") == 2


def test_gzip_bodies_are_accepted(
    client: TestClient, tenant: TenantCtx, writer: dict[str, str]
) -> None:
    body = gzip.compress(json.dumps(run_event("START", new_run_id(), inputs=[RAW])).encode())
    response = client.post(
        LINEAGE,
        content=body,
        headers={
            **writer,
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )
    assert response.status_code == 201, response.text


def test_a_gzip_bomb_is_refused_after_the_limit(
    client: TestClient, tenant: TenantCtx, writer: dict[str, str]
) -> None:
    event = run_event("START", new_run_id())
    event["padding"] = " " * 3_000_000  # compresses to a few kilobytes, over the 1 MiB limit
    body = gzip.compress(json.dumps(event).encode())
    assert len(body) < 20_000
    response = client.post(
        LINEAGE,
        content=body,
        headers={**writer, "Content-Encoding": "gzip"},
    )
    assert "1048576 bytes" in problem_of(response, 413, "payload-too-large")["detail"]


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({"Content-Encoding": "gzip"}, b"not gzip at all", 400, "invalid-input"),
        ({"Content-Encoding": "gzip"}, gzip.compress(b"{}")[:-6], 400, "invalid-input"),
        ({"Content-Encoding": "br"}, b"{}", 415, "unsupported-media-type"),
        ({"Content-Type": "text/plain"}, b"{}", 415, "unsupported-media-type"),
        ({}, b"{not json", 400, "malformed-json"),
        ({}, b'{"eventTime": NaN}', 400, "malformed-json"),
    ],
)
def test_undecodable_bodies(
    client: TestClient,
    writer: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    status: int,
    code: str,
) -> None:
    response = client.post(LINEAGE, content=body, headers={**writer, **headers})
    problem_of(response, status, code)


def _without(event: dict[str, Any], *path: str) -> dict[str, Any]:
    target = event
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return event


@pytest.mark.parametrize(
    ("mutate", "loc", "kind"),
    [
        (lambda e: _without(e, "run", "runId"), ["body", "run", "runId"], "missing"),
        (lambda e: {**e, "eventType": "FINISHED"}, ["body", "eventType"], "literal_error"),
        (lambda e: {**e, "run": {"runId": "not-a-uuid"}}, ["body", "run", "runId"], "uuid_parsing"),
        (
            lambda e: {**e, "eventTime": "2026-05-01T12:00:00"},
            ["body", "eventTime"],
            "timezone_aware",
        ),
        (lambda e: {**e, "eventTime": 1777000000}, ["body", "eventTime"], "datetime_type"),
        (lambda e: _without(e, "job"), ["body", "job"], "missing"),
        (
            lambda e: {**e, "job": {"namespace": 7, "name": "x"}},
            ["body", "job", "namespace"],
            "string_type",
        ),
        (lambda e: {**e, "inputs": {"namespace": "x"}}, ["body", "inputs"], "list_type"),
        (
            lambda e: {**e, "inputs": [{"namespace": "s3://x", "name": ""}]},
            ["body", "inputs", 0, "name"],
            "string_too_short",
        ),
        (
            lambda e: {
                **e,
                "outputs": [
                    {
                        "namespace": "s3://x",
                        "name": "y",
                        "facets": {"schema": {"fields": [{"type": "int"}]}},
                    }
                ],
            },
            ["body", "outputs", 0, "facets", "schema", "fields", 0, "name"],
            "missing",
        ),
        (lambda e: _without(e, "producer"), ["body", "producer"], "missing"),
        (lambda e: [e], ["body"], "model_type"),
    ],
)
def test_malformed_events_are_refused_precisely_and_write_nothing(
    client: TestClient,
    tenant: TenantCtx,
    writer: dict[str, str],
    mutate: Any,
    loc: list[Any],
    kind: str,
) -> None:
    event = mutate(run_event("START", new_run_id(), inputs=[dataset("s3://bad", "table")]))
    body = problem_of(post(client, writer, event), 422, "validation-error")
    assert [e["loc"] for e in body["errors"]] == [loc]
    assert body["errors"][0]["type"] == kind
    assert events_count(client, tenant, "lineage.ingest") == 0
    assert (
        client.get(
            "/api/v1/datasets", params={"namespace": "s3://bad"}, headers=tenant.admin_headers
        ).json()["items"]
        == []
    )


def test_retries_are_idempotent(
    client: TestClient, tenant: TenantCtx, writer: dict[str, str]
) -> None:
    run_id = new_run_id()
    event = run_event("START", run_id, inputs=[RAW], outputs=[CLEAN])
    first = post(client, writer, event)
    again = post(client, writer, event)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == {**first.json(), "duplicate": True}
    reordered = json.loads(json.dumps(event, sort_keys=True))
    assert post(client, writer, reordered).json()["duplicate"] is True
    assert events_count(client, tenant, "lineage.ingest") == 1
    assert events_count(client, tenant, "run.record") == 1
    changed = {**event, "outputs": []}
    conflict = problem_of(post(client, writer, changed), 409, "conflict")
    assert "already received with different content" in conflict["detail"]
    other_time = {**event, "eventTime": "2026-05-01T12:00:01Z"}
    assert post(client, writer, other_time).json()["duplicate"] is False


def test_a_job_that_rewrites_its_input_gets_a_new_version(
    client: TestClient, tenant: TenantCtx, writer: dict[str, str]
) -> None:
    table = dataset("s3://lake", "daily/totals", [("day", "DATE")])
    first = post(client, writer, run_event("COMPLETE", new_run_id(), outputs=[table]))
    second = post(
        client,
        writer,
        run_event("COMPLETE", new_run_id(), inputs=[table], outputs=[table]),
    ).json()
    assert second["inputs"] == first.json()["outputs"]
    assert second["outputs"] != second["inputs"]


def test_a_cycle_is_refused_and_nothing_is_written(
    client: TestClient, tenant: TenantCtx, writer: dict[str, str]
) -> None:
    pinned = dataset("s3://lake", "pinned", version="v1")
    response = post(
        client,
        writer,
        run_event("COMPLETE", new_run_id(), inputs=[pinned], outputs=[pinned]),
    )
    assert "lineage cycle" in problem_of(response, 400, "invalid-input")["detail"]
    assert (
        client.get(
            "/api/v1/datasets", params={"name": "pinned"}, headers=tenant.admin_headers
        ).json()["items"]
        == []
    )


def test_ingest_needs_lineage_write(client: TestClient, tenant: TenantCtx) -> None:
    validator = add_member(client, tenant, "validator")  # reads lineage, cannot write it
    response = post(client, validator.headers, run_event("START", new_run_id()))
    assert "lineage.write" in problem_of(response, 403, "forbidden")["detail"]
    anonymous = client.post(LINEAGE, json=run_event("START", new_run_id()))
    problem_of(anonymous, 401, "unauthenticated")


def test_query_routes_answer_problems_for_bad_nodes(client: TestClient, tenant: TenantCtx) -> None:
    for route in ("upstream", "downstream", "show", "impact", "path", "completeness"):
        bad = client.get(
            f"{LINEAGE}/{route}", params={"node": "model:x"}, headers=tenant.admin_headers
        )
        assert "is not a node" in problem_of(bad, 400, "invalid-node")["detail"]
        missing = client.get(
            f"{LINEAGE}/{route}",
            params={"node": "dataset:s3://lake:nothing"},
            headers=tenant.admin_headers,
        )
        problem_of(missing, 404, "not-found")
    deep = client.get(
        f"{LINEAGE}/upstream",
        params={"node": "dataset:s3://lake:x", "depth": 101},
        headers=tenant.admin_headers,
    )
    problem_of(deep, 422, "validation-error")


def test_impact_pages_over_http(client: TestClient, tenant: TenantCtx) -> None:
    """Two runs read raw/orders and each writes a version of clean/orders: four derived nodes,
    paged two at a time with the cursor, the totals on every page."""
    writer = add_member(client, tenant, "trainer")
    for _ in range(2):
        event = run_event("COMPLETE", new_run_id(), inputs=[RAW], outputs=[CLEAN])
        sent = post(client, writer.headers, event)
        assert sent.status_code == 201, sent.text
    params: dict[str, Any] = {"node": "dataset:s3://lake:raw/orders", "limit": 2}
    seen: list[str] = []
    while True:
        page = client.get(f"{LINEAGE}/impact", params=params, headers=writer.headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["counts"] == {"dataset_version": 2, "run": 2}
        assert body["production_pointers"] == 0
        assert [r["details"]["name"] for r in body["root"]] == ["raw/orders"]
        seen += [n["id"] for n in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert len(seen) == 4 and seen == sorted(seen)
    runs = client.get(
        f"{LINEAGE}/impact",
        params={"node": "dataset:s3://lake:raw/orders", "kind": "run"},
        headers=writer.headers,
    ).json()
    assert [n["kind"] for n in runs["items"]] == ["run", "run"]
    assert all(n["label"] == "job:airflow:etl.clean_orders" for n in runs["items"])
    bad_kind = client.get(
        f"{LINEAGE}/impact",
        params={"node": "dataset:s3://lake:raw/orders", "kind": "table"},
        headers=writer.headers,
    )
    problem_of(bad_kind, 422, "validation-error")
    clash = client.get(
        f"{LINEAGE}/impact",
        params={"node": "dataset:s3://lake:raw/orders", "kind": "run", "in_production": True},
        headers=writer.headers,
    )
    assert "in_production lists model versions" in problem_of(clash, 400, "invalid-input")["detail"]
