"""The SDK's lineage methods against the in-process API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.client.conftest import sdk_for
from tests.conftest import TenantCtx
from tests.factories import add_member
from tests.lineage.events import dataset, new_run_id, run_event
from tests.lineage.kit import Kit, shop_graph
from trustplane.client import NotFound, ValidationFailed


@pytest.fixture
def shop(session_factory: sessionmaker[Session], tenant: TenantCtx) -> Kit:
    return shop_graph(session_factory, tenant)


def test_queries(client: TestClient, tenant: TenantCtx, shop: Kit) -> None:
    tp = sdk_for(client, tenant.admin_token)
    down = tp.lineage_downstream("dataset:s3://lake:raw/orders", depth=2, max_nodes=10)
    assert {n.id for n in down.nodes if n.depth == 2} == {shop["clean1"], shop["clean2"]}
    up = tp.lineage_upstream(shop["churn2"], depth=1)
    assert [n.id for n in up.nodes if n.side == "upstream"] == [shop["train2"]]
    assert {n.id for n in tp.lineage_show(shop["spend2"]).nodes} == {
        shop["spend2"],
        shop["clean2"],
        shop["train2"],
    }
    impact = tp.lineage_impact(shop["orders2"], kind="model_version")
    assert [n.id for n in impact.items] == [shop["churn2"]]
    assert impact.items[0].via[0].reason == "erasure request 42"
    assert impact.counts == {
        "dataset_version": 1,
        "feature_version": 1,
        "model_version": 1,
        "run": 2,
    }
    assert impact.next_cursor is None
    paged = list(tp.paginate(tp.lineage_impact, node="dataset:s3://lake:raw/orders", limit=3))
    assert len(paged) == 10 and [n.id for n in paged] == sorted(n.id for n in paged)
    serving = list(tp.iter_lineage_impact(shop["raw_orders"], in_production=True))
    assert [(n.id, n.production_environments) for n in serving] == [(shop["churn1"], ["prod"])]
    assert len(tp.lineage_path(shop["churn2"]).paths) == 2
    (report,) = tp.lineage_completeness(shop["churn2"])
    assert report.missing == ["environment_fingerprint"]
    assert [v.model_version_id for v in tp.iter_deprecated_feature_users()] == [shop["churn1"]]
    assert [
        v.model_version_id for v in tp.iter_flagged_dataset_users(dataset=shop["raw_orders"])
    ] == [shop["churn2"]]


def test_errors_are_typed(client: TestClient, tenant: TenantCtx, shop: Kit) -> None:
    tp = sdk_for(client, tenant.admin_token)
    with pytest.raises(ValidationFailed) as bad:
        tp.lineage_impact("table:x")
    assert bad.value.code == "invalid-node"
    with pytest.raises(NotFound):
        tp.lineage_upstream("job:airflow:missing")


def test_send_openlineage(client: TestClient, tenant: TenantCtx) -> None:
    pipeline = add_member(client, tenant, "trainer", kind="service-accounts")
    tp = sdk_for(client, pipeline.token)
    event = run_event("START", new_run_id(), inputs=[dataset("s3://lake", "sdk")])
    first = tp.send_openlineage(event, compress=True)
    again = tp.send_openlineage(event)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.run_id == first.run_id and len(first.inputs) == 1
