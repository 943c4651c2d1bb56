"""``trustplane lineage ...`` through the SDK against the in-process API."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.cli.conftest import Cli
from tests.conftest import TenantCtx
from tests.factories import add_member
from tests.lineage.events import dataset, new_run_id, run_event
from tests.lineage.kit import Kit, shop_graph


@pytest.fixture
def shop(session_factory: sessionmaker[Session], tenant: TenantCtx) -> Kit:
    return shop_graph(session_factory, tenant)


def test_upstream_json_is_the_api_answer(cli: Cli, shop: Kit) -> None:
    graph = cli.json("lineage", "upstream", shop["churn1"], "--depth", "2")
    assert graph["direction"] == "upstream" and graph["depth"] == 2
    assert sorted(shop.names([n["id"] for n in graph["nodes"]])) == [
        "age1",
        "churn1",
        "spend1",
        "train1",
    ]
    assert graph["truncated"] is True


def test_downstream_table_by_marquez_name(cli: Cli, shop: Kit) -> None:
    out = cli.ok("lineage", "downstream", "dataset:s3://lake:raw/orders", "--depth", "1")
    assert "s3://lake:raw/orders@orders1" in out
    assert "job:airflow:clean_orders" in out
    assert shop["etl1"] in out and shop["etl2"] in out
    assert "4 nodes, 2 edges" in out
    assert "more lie beyond" in out


def test_show(cli: Cli, shop: Kit) -> None:
    graph = cli.json("lineage", "show", "job:airflow:clean_orders")
    assert sorted(shop.names([n["id"] for n in graph["nodes"] if n["side"] == "upstream"])) == [
        "orders1",
        "orders2",
        "users1",
    ]


def test_impact_lists_derived_nodes_and_totals(cli: Cli, shop: Kit) -> None:
    out = cli.ok("lineage", "impact", shop["users1"])
    assert "1 dataset version(s), 2 feature version(s), 1 model version(s), 2 run(s)" in out
    assert "production pointers reached: 1" in out
    assert shop["churn1"] in out
    assert "prod" in out
    found = cli.json(
        "lineage",
        "impact",
        "dataset:postgres://db.internal:5432:shop.public.users",
        "--kind",
        "model_version",
    )
    assert [n["id"] for n in found["items"]] == [shop["churn1"]]
    assert found["items"][0]["production_environments"] == ["prod"]
    assert (found["production_pointers"], found["next_cursor"]) == (1, None)
    first = cli.json("lineage", "impact", shop["users1"], "--limit", "4")
    assert len(first["items"]) == 4 and first["next_cursor"] == first["items"][-1]["id"]
    every = cli.json("lineage", "impact", shop["users1"], "--limit", "4", "--all")
    assert [n["id"] for n in every["items"][:4]] == [n["id"] for n in first["items"]]
    assert len(every["items"]) == 6 and every["next_cursor"] is None
    assert every["counts"] == first["counts"]
    rest = cli.ok("lineage", "impact", shop["users1"], "--cursor", first["next_cursor"])
    assert all(n["id"] not in rest for n in first["items"])
    assert "more results" in cli.ok("lineage", "impact", shop["users1"], "--limit", "2")
    served = cli.json("lineage", "impact", shop["users1"], "--in-production")
    assert [n["id"] for n in served["items"]] == [shop["churn1"]]
    assert "kind" in cli.error(2, "lineage", "impact", shop["users1"], "--kind", "table")
    clash = cli.error(2, "lineage", "impact", shop["users1"], "--kind", "run", "--in-production")
    assert "in_production lists model versions" in clash


def test_path_prints_each_route(cli: Cli, shop: Kit) -> None:
    out = cli.ok("lineage", "path", shop["churn1"])
    users, train = "postgres://db.internal:5432:shop.public.users@users1", f"run {shop['train1']}"
    clean = "job:airflow:clean_orders -> s3://lake:clean/orders@clean1 -> spend@spend1"
    assert out.splitlines()[0] == f"paths to churn v1 ({shop['churn1']}):"
    assert sorted(out.splitlines()[1:]) == sorted(
        [
            f"  s3://lake:raw/orders@orders1 -> {clean} -> {train} -> churn v1",
            f"  {users} -> age@age1 -> {train} -> churn v1",
            f"  {users} -> {clean} -> {train} -> churn v1",
        ]
    )


def test_completeness_and_attention_lists(cli: Cli, shop: Kit) -> None:
    out = cli.ok("lineage", "completeness", shop["churn"])
    assert "0.86" in out and "environment_fingerprint" in out
    reports = cli.json("lineage", "completeness", shop["fraud1"])
    assert reports[0]["score"] == round(1 / 7, 4)
    deprecated = cli.json("lineage", "deprecated-features")
    assert [v["model_version_id"] for v in deprecated["items"]] == [shop["churn1"]]
    flagged = cli.ok("lineage", "flagged-datasets", "--dataset", shop["raw_orders"])
    assert shop["churn2"] in flagged
    assert "On flagged datasets" in flagged


def test_bad_input_is_one_line_exit_2(cli: Cli, shop: Kit) -> None:
    assert "is not a node" in cli.error(2, "lineage", "upstream", "model:churn")
    assert "not found" in cli.error(2, "lineage", "impact", "dataset:s3://lake:nothing")
    assert "names 2 nodes" in cli.error(2, "lineage", "path", shop["churn"])
    assert "validation" in cli.error(2, "lineage", "downstream", shop["churn1"], "--depth", "0")


def test_send_an_event_file(
    cli: Cli, client: TestClient, tenant: TenantCtx, tmp_path: Path
) -> None:
    pipeline = add_member(client, tenant, "trainer", kind="service-accounts")
    event = run_event("COMPLETE", new_run_id(), outputs=[dataset("s3://lake", "sent")])
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    out = cli.ok("lineage", "send", str(path), "--gzip", token=pipeline.token)
    assert "COMPLETE of job airflow:etl.clean_orders recorded" in out
    again = cli.json("lineage", "send", str(path), token=pipeline.token)
    assert again["duplicate"] is True
    assert "lineage.write" in cli.error(1, "lineage", "send", str(path))  # the admin may not
    (tmp_path / "list.json").write_text("[]")
    assert "one JSON object" in cli.error(2, "lineage", "send", str(tmp_path / "list.json"))
    (tmp_path / "bad.json").write_bytes(gzip.compress(b"x"))
    assert "is not JSON" in cli.error(2, "lineage", "send", str(tmp_path / "bad.json"))
    assert "cannot read" in cli.error(2, "lineage", "send", str(tmp_path / "missing.json"))


def test_received_events_are_listed_and_read_back(
    cli: Cli, client: TestClient, tenant: TenantCtx, tmp_path: Path
) -> None:
    pipeline = add_member(client, tenant, "trainer", kind="service-accounts")
    run_id, other = new_run_id(), new_run_id()
    for kind, run in (("START", run_id), ("COMPLETE", run_id), ("COMPLETE", other)):
        event = run_event(kind, run, outputs=[dataset("s3://lake", f"out-{run[:8]}")])
        path = tmp_path / f"{kind}-{run}.json"
        path.write_text(json.dumps(event))
        cli.ok("lineage", "send", str(path), token=pipeline.token)
    t = pipeline.token
    listed = cli.json("lineage", "events", "--run-uuid", run_id, token=t)
    assert [e["event_type"] for e in listed["items"]] == ["START", "COMPLETE"]
    assert all(e["event"] is None for e in listed["items"])
    assert (
        len(cli.json("lineage", "events", "--job-name", "etl.clean_orders", token=t)["items"]) == 3
    )
    paged = cli.json("lineage", "events", "--limit", "2", token=t)
    assert len(paged["items"]) == 2 and paged["next_cursor"]
    one = cli.json("lineage", "events", listed["items"][1]["id"], token=t)
    assert one["event"]["run"]["runId"] == run_id and one["event"]["eventType"] == "COMPLETE"
    assert "OpenLineage events received" in cli.ok("lineage", "events", token=t)
    assert "not found" in cli.error(2, "lineage", "events", "ole_nope", token=t)
