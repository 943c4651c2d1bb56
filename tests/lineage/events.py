"""OpenLineage RunEvents for tests, shaped as the openlineage-python client serialises them."""

from __future__ import annotations

import uuid
from typing import Any

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def dataset(
    namespace: str,
    name: str,
    columns: list[tuple[str, str]] | None = None,
    uri: str | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    facets: dict[str, Any] = {}
    if columns is not None:
        facets["schema"] = {
            "_producer": PRODUCER,
            "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json",
            "fields": [{"name": n, "type": t} for n, t in columns],
        }
    if uri is not None:
        facets["dataSource"] = {"_producer": PRODUCER, "name": uri, "uri": uri}
    if version is not None:
        facets["version"] = {"_producer": PRODUCER, "datasetVersion": version}
    return {"namespace": namespace, "name": name, "facets": facets}


def run_event(
    event_type: str | None,
    run_id: str,
    *,
    time: str = "2026-05-01T12:00:00.000000+00:00",
    job: tuple[str, str] = ("airflow", "etl.clean_orders"),
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    commit: str | None = None,
) -> dict[str, Any]:
    job_facets: dict[str, Any] = {}
    if commit is not None:
        job_facets["sourceCodeLocation"] = {
            "_producer": PRODUCER,
            "type": "git",
            "url": "https://git.example/data/etl",
            "version": commit,
        }
    event: dict[str, Any] = {
        "eventTime": time,
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": run_id, "facets": {}},
        "job": {"namespace": job[0], "name": job[1], "facets": job_facets},
        "inputs": inputs or [],
        "outputs": outputs or [],
    }
    if event_type is not None:
        event["eventType"] = event_type
    return event


def new_run_id() -> str:
    return str(uuid.uuid4())
