"""The real openlineage-python client (HTTP transport, api_key auth, gzip) against a real
``trustplane serve`` process, on each database backend; then the graph it left behind."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import (
    InputDataset,
    Job,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
)
from openlineage.client.facet_v2 import (
    datasource_dataset,
    schema_dataset,
    source_code_location_job,
)

from tests.factories import unique
from tests.processes import clean_env, free_port, trustplane_executable, wait_ready

pytestmark = pytest.mark.server


@dataclass
class Server:
    url: str
    admin: dict[str, str]


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    """``trustplane serve`` on the test database, and a fresh tenant's admin token."""
    env = clean_env(tmp_path, TRUSTPLANE_DATABASE_URL=database_url)
    boot = subprocess.run(
        [trustplane_executable(), "admin", "bootstrap", "--tenant", unique("ol"), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    token = httpx.Response(200, content=boot.stdout).json()["token"]["token"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "server.log").open("w") as log:
        proc = subprocess.Popen(
            [trustplane_executable(), "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(url, proc)
            yield Server(url, {"Authorization": f"Bearer {token}"})
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _pipeline_token(server: Server) -> str:
    """A service account holding the trainer role (which grants lineage.write)."""
    api = httpx.Client(base_url=f"{server.url}/api/v1", headers=server.admin, timeout=10)
    with api:
        account = api.post("/principals/service-accounts", json={"name": unique("airflow")})
        grant = api.post(
            "/bindings",
            json={"principal_id": account.json()["id"], "role": "trainer", "reason": "pipeline"},
        )
        assert grant.status_code == 201, grant.text
        issued = api.post("/tokens", json={"name": "ol", "principal_id": account.json()["id"]})
        token: str = issued.json()["token"]
        return token


def _client(server: Server, token: str) -> OpenLineageClient:
    """Configured as openlineage.yml (or Airflow's [openlineage] transport) would be."""
    return OpenLineageClient(
        config={
            "transport": {
                "type": "http",
                "url": server.url,
                "endpoint": "api/v1/lineage",
                "auth": {"type": "api_key", "apiKey": token},
                "compression": "gzip",
            }
        }
    )


def _dataset(cls: Any, namespace: str, name: str, columns: list[tuple[str, str]]) -> Any:
    return cls(
        namespace=namespace,
        name=name,
        facets={
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in columns]
            ),
            "dataSource": datasource_dataset.DatasourceDatasetFacet(
                name=namespace, uri=f"{namespace}/{name}"
            ),
        },
    )


def test_the_openlineage_python_client_round_trip(server: Server) -> None:
    client = _client(server, _pipeline_token(server))
    run = Run(runId=str(uuid.uuid4()))
    job = Job(
        namespace="airflow",
        name="shop.clean_orders",
        facets={
            "sourceCodeLocation": source_code_location_job.SourceCodeLocationJobFacet(
                type="git", url="https://git.example/data/dags", version="c0ffee" + "0" * 34
            )
        },
    )
    orders = _dataset(InputDataset, "s3://lake", "raw/orders", [("id", "BIGINT")])
    users = _dataset(
        InputDataset, "postgres://db.internal:5432", "shop.public.users", [("id", "BIGINT")]
    )
    clean = _dataset(OutputDataset, "s3://lake", "clean/orders", [("id", "BIGINT")])
    start = RunEvent(
        eventType=RunState.START,
        eventTime="2026-05-01T12:00:00+00:00",
        run=run,
        job=job,
        inputs=[orders, users],
        outputs=[clean],
    )
    complete = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2026-05-01T12:04:00+00:00",
        run=run,
        job=job,
        inputs=[orders, users],
        outputs=[clean],
    )
    client.emit(start)
    client.emit(complete)
    client.emit(complete)  # a retry: counted once
    client.close()

    api = httpx.Client(base_url=f"{server.url}/api/v1", headers=server.admin, timeout=10)
    with api:
        runs = api.get(
            "/runs", params={"job_namespace": "airflow", "job_name": "shop.clean_orders"}
        ).json()["items"]
        assert len(runs) == 1
        recorded = runs[0]
        assert (recorded["external_run_id"], recorded["status"]) == (str(run.runId), "completed")
        assert recorded["commit_sha"] == "c0ffee" + "0" * 34
        assert len(recorded["inputs"]) == 2 and len(recorded["outputs"]) == 1

        graph = api.get(
            "/lineage/downstream", params={"node": "dataset:s3://lake:raw/orders"}
        ).json()
        labels = {n["label"] for n in graph["nodes"]}
        assert labels == {
            "s3://lake:raw/orders@" + _label_of(graph, "raw/orders"),
            "job:airflow:shop.clean_orders",
            f"s3://lake:clean/orders@run-{run.runId}",
        }
        up = api.get(
            "/lineage/upstream",
            params={"node": "dataset:s3://lake:clean/orders", "depth": 2},
        ).json()
        assert {
            n["details"].get("name") for n in up["nodes"] if n["kind"] == "dataset_version"
        } == {
            "clean/orders",
            "raw/orders",
            "shop.public.users",
        }
        version = api.get(f"/dataset-versions/{recorded['outputs'][0]}").json()
        assert version["uri"] == "s3://lake/clean/orders"
        assert version["schema"] == [{"name": "id", "type": "BIGINT"}]
        ingested = api.get(
            "/audit/events", params={"action": "lineage.ingest", "limit": 10}
        ).json()["items"]
        assert len(ingested) == 2

    intruder = _client(server, "tp_not-a-real-token")
    with pytest.raises(requests.HTTPError, match="401"):
        intruder.emit(start)
    intruder.close()


def _label_of(graph: dict[str, Any], name: str) -> str:
    node = next(n for n in graph["nodes"] if n["details"].get("name") == name)
    return str(node["details"]["version"])
