"""The OpenLineage RunEvent as we accept it, and how its parts map onto the registry (pure).

Validation follows the OpenLineage 2.0 spec: ``eventTime`` (RFC 3339 with an offset),
``producer``, ``schemaURL``, ``run.runId`` (a UUID) and ``job`` (namespace, name) are
required; ``eventType`` is optional but, when present, one of the six run states. Facets are
open (any producer may add its own) except the few we read, whose shapes are checked so a
malformed one is refused with the path to the bad field:

* dataset ``schema`` -> the dataset version's columns (top-level fields: name and type);
* dataset ``dataSource`` -> the dataset version's URI (``uri``);
* dataset ``version`` -> the dataset version's label (``datasetVersion``);
* job ``sourceCodeLocation`` -> the run's code repository (``repoUrl``, else ``url``) and
  commit (``version``, when it is a hexadecimal git SHA).

Validation uses strict JSON rules: a number where a string belongs is an error, not coerced.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

EventType = Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]
MAX_DATASETS = 1000
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")

#: The run status an event type leaves a run in (START/RUNNING/OTHER: still running).
STATUS_AFTER: dict[str, str] = {
    "START": "running",
    "RUNNING": "running",
    "OTHER": "running",
    "": "running",
    "COMPLETE": "completed",
    "FAIL": "failed",
    "ABORT": "aborted",
}
TERMINAL = frozenset({"COMPLETE", "FAIL", "ABORT"})


class _Open(BaseModel):
    """A part of the event that may carry fields we do not read."""

    model_config = ConfigDict(extra="allow", strict=True)


class SchemaField(_Open):
    name: str = Field(min_length=1, max_length=500)
    type: str | None = Field(default=None, max_length=200)


class SchemaFacet(_Open):
    fields: list[SchemaField] | None = Field(default=None, max_length=5000)


class DataSourceFacet(_Open):
    name: str | None = None
    uri: str | None = Field(default=None, max_length=2000)


class VersionFacet(_Open):
    datasetVersion: str = Field(min_length=1, max_length=200)  # noqa: N815


class DatasetFacets(_Open):
    schema_: SchemaFacet | None = Field(default=None, alias="schema")
    dataSource: DataSourceFacet | None = None  # noqa: N815
    version: VersionFacet | None = None


class OLDataset(_Open):
    namespace: str = Field(min_length=1, max_length=500)
    name: str = Field(min_length=1, max_length=500)
    facets: DatasetFacets | None = None


class SourceCodeLocationFacet(_Open):
    type: str | None = None
    url: str | None = Field(default=None, max_length=1000)
    repoUrl: str | None = Field(default=None, max_length=1000)  # noqa: N815
    version: str | None = Field(default=None, max_length=200)


class JobFacets(_Open):
    sourceCodeLocation: SourceCodeLocationFacet | None = None  # noqa: N815


class OLJob(_Open):
    namespace: str = Field(min_length=1, max_length=500)
    name: str = Field(min_length=1, max_length=500)
    facets: JobFacets | None = None


class OLRun(_Open):
    runId: UUID  # noqa: N815
    facets: dict[str, Any] | None = None


class RunEvent(_Open):
    """An OpenLineage RunEvent (only RunEvents are accepted: they carry ``run``)."""

    eventType: EventType | None = None  # noqa: N815
    eventTime: AwareDatetime  # noqa: N815
    producer: str = Field(min_length=1, max_length=2000)
    schemaURL: str = Field(min_length=1, max_length=2000)  # noqa: N815
    run: OLRun
    job: OLJob
    inputs: list[OLDataset] | None = Field(default=None, max_length=MAX_DATASETS)
    outputs: list[OLDataset] | None = Field(default=None, max_length=MAX_DATASETS)

    @property
    def type_key(self) -> str:
        """The event type as stored in the idempotency key ('' when absent)."""
        return self.eventType or ""

    @property
    def time(self) -> datetime:
        return self.eventTime


def columns(dataset: OLDataset) -> list[dict[str, Any]] | None:
    """The schema facet as dataset version columns ({name, type}), or None without one."""
    facet = dataset.facets.schema_ if dataset.facets else None
    if facet is None or facet.fields is None:
        return None
    return [{"name": f.name, "type": f.type or ""} for f in facet.fields]


def uri(dataset: OLDataset) -> str | None:
    source = dataset.facets.dataSource if dataset.facets else None
    return source.uri if source else None


def version_label(dataset: OLDataset) -> str | None:
    facet = dataset.facets.version if dataset.facets else None
    return facet.datasetVersion if facet else None


def output_label(dataset: OLDataset, run_uuid: str) -> str:
    """An output's version: its version facet, else the run that wrote it (each run writes a
    new version, so a job that reads and rewrites a table does not link it to itself)."""
    return version_label(dataset) or f"run-{run_uuid}"


def code_location(job: OLJob) -> tuple[str | None, str | None]:
    """(code repository, commit SHA) from the job's sourceCodeLocation facet."""
    facet = job.facets.sourceCodeLocation if job.facets else None
    if facet is None:
        return None, None
    commit = facet.version if facet.version and _SHA.match(facet.version) else None
    return facet.repoUrl or facet.url, commit.lower() if commit else None
