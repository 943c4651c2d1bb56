"""OpenLineage ingest: one RunEvent becomes registry datasets, dataset versions and a run with
its input and output links, written through the registry's services (so the datasets and jobs
it reports are listed by the same commands as those registered directly), plus the event
itself, kept verbatim, and one ``lineage.ingest`` audit event. All in the caller's
transaction: an event is taken whole or not at all.

Idempotency: OpenLineage clients retry on 5xx, so an event whose (runId, eventType,
eventTime) was received before changes nothing and answers as the first time did. The same
key with different content is refused (409).

Which dataset version an event names:

* an input or output with a ``version`` facet: that version (created if new);
* an output otherwise: a version labelled ``run-<runId>``, written by this run;
* an input otherwise: the version the run already reads, else the newest version of the
  dataset that this run did not write, else a version identified by its URI and schema.

Cycles are refused by the registry (400): a run cannot write what it read.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.orm import Session

from trustplane.audit import AuditActor, Target, record
from trustplane.audit.canonical import rfc3339
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id, utcnow
from trustplane.errors import Conflict
from trustplane.lineage import openlineage as ol
from trustplane.lineage.models import OpenLineageEvent
from trustplane.lineage.repository import (
    find_event,
    latest_version,
    lock_run,
    run_input_of_dataset,
)
from trustplane.lineage.schemas import IngestResult
from trustplane.registry.datasets import ensure_dataset, ensure_dataset_version
from trustplane.registry.models import Run
from trustplane.registry.repository import run_by_external_id, tenant_of
from trustplane.registry.runs import record_run, update_run


def ingest(session: Session, actor: AuditActor, event: ol.RunEvent, raw: Any) -> IngestResult:
    """Record one RunEvent (``raw`` is its parsed JSON, stored as received)."""
    tenant = tenant_of(actor)
    run_uuid = str(event.run.runId)
    lock_run(session, tenant, run_uuid)
    content = _content_hash(raw)
    seen = find_event(session, tenant, run_uuid, event.type_key, event.time)
    if seen is not None:
        if seen.body_sha256 != content:
            raise Conflict(
                f"an event with runId {run_uuid}, eventType '{event.type_key}' and eventTime "
                f"{rfc3339(event.time)} was already received with different content"
            )
        return _result(seen, duplicate=True)
    run = run_by_external_id(session, tenant, run_uuid)
    inputs = [_input(session, actor, tenant, run, d) for d in event.inputs or []]
    outputs = [_output(session, actor, d, run_uuid) for d in event.outputs or []]
    run = _record(session, actor, event, run, inputs, outputs)
    stored = OpenLineageEvent(
        id=new_id("ole"),
        tenant_id=tenant,
        run_uuid=run_uuid,
        event_type=event.type_key,
        event_time=event.time,
        job_namespace=event.job.namespace,
        job_name=event.job.name,
        producer=event.producer,
        run_id=run.id,
        body_sha256=content,
        event=raw,
        inputs=inputs,
        outputs=outputs,
        received_at=utcnow(),
        received_by=actor.principal_id,
    )
    session.add(stored)
    session.flush()
    record(
        session,
        actor,
        "lineage.ingest",
        Target("run", run.id, f"{event.job.namespace}:{event.job.name}"),
        details=EventDetails(
            payload={
                "run_uuid": run_uuid,
                "event_type": event.eventType,
                "event_time": rfc3339(event.time),
                "producer": event.producer,
                "inputs": inputs,
                "outputs": outputs,
            }
        ),
    )
    return _result(stored, duplicate=False)


def _content_hash(raw: Any) -> str:
    """SHA-256 of the event's JSON with sorted keys and no spaces: the same event sent again
    hashes the same even if its producer serialised it differently."""
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _input(
    session: Session, actor: AuditActor, tenant: str, run: Run | None, data: ol.OLDataset
) -> str:
    dataset = ensure_dataset(session, actor, namespace=data.namespace, name=data.name)
    label = ol.version_label(data)
    if label is None:
        known = run_input_of_dataset(session, tenant, run.id, dataset.id) if run else None
        known = known or latest_version(session, tenant, dataset.id, run.id if run else None)
        if known is not None:
            return known
    version = ensure_dataset_version(
        session, actor, dataset, version=label, uri=ol.uri(data), schema=ol.columns(data)
    )
    return version.id


def _output(session: Session, actor: AuditActor, data: ol.OLDataset, run_uuid: str) -> str:
    dataset = ensure_dataset(session, actor, namespace=data.namespace, name=data.name)
    version = ensure_dataset_version(
        session,
        actor,
        dataset,
        version=ol.output_label(data, run_uuid),
        uri=ol.uri(data),
        schema=ol.columns(data),
    )
    return version.id


def _record(
    session: Session,
    actor: AuditActor,
    event: ol.RunEvent,
    run: Run | None,
    inputs: list[str],
    outputs: list[str],
) -> Run:
    """Create the run from its first event, or add this event's links and state to it."""
    kind = event.type_key
    ends = event.time if kind in ol.TERMINAL else None
    if run is None:
        repo, commit = ol.code_location(event.job)
        return record_run(
            session,
            actor,
            job_namespace=event.job.namespace,
            job_name=event.job.name,
            external_run_id=str(event.run.runId),
            inputs=inputs,
            outputs=outputs,
            code_repo=repo,
            commit_sha=commit,
            status=ol.STATUS_AFTER[kind],
            started_at=event.time if kind == "START" else None,
            ended_at=ends,
        )
    late_start = run.started_at is None and (run.ended_at is None or event.time <= run.ended_at)
    if kind == "START" and late_start:
        run.started_at = event.time  # the START came after another event of the run
    return update_run(
        session,
        actor,
        external_run_id=str(event.run.runId),
        inputs=inputs,
        outputs=outputs,
        status=ol.STATUS_AFTER[kind] if kind in ol.TERMINAL else None,
        ended_at=ends,
    )


def _result(event: OpenLineageEvent, *, duplicate: bool) -> IngestResult:
    return IngestResult(
        event_id=event.id,
        run_id=event.run_id,
        run_uuid=event.run_uuid,
        event_type=event.event_type or None,
        job_namespace=event.job_namespace,
        job_name=event.job_name,
        inputs=list(event.inputs),
        outputs=list(event.outputs),
        duplicate=duplicate,
    )
