"""OpenLineage ingest at the service level: run states, event order, tenants, storage rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.factories import bootstrap_tenant
from tests.lineage.events import dataset, new_run_id, run_event
from trustplane.audit import Origin
from trustplane.audit.models import AuditEvent
from trustplane.db.session import scope_to_tenant, unit_of_work
from trustplane.identity.actor import Actor
from trustplane.lineage.ingest import ingest
from trustplane.lineage.openlineage import RunEvent
from trustplane.lineage.schemas import IngestResult
from trustplane.registry.models import DatasetVersion, Run

ORDERS = dataset("s3://lake", "raw/orders", [("id", "BIGINT")])


def send(factory: sessionmaker[Session], tenant: TenantCtx, event: dict[str, Any]) -> IngestResult:
    body = json.dumps(event).encode()
    actor = Actor.local_system(Origin("ol-test"), tenant.id)
    with unit_of_work(factory) as session:
        scope_to_tenant(session, tenant.id)
        return ingest(session, actor, RunEvent.model_validate_json(body), json.loads(body))


def run_row(factory: sessionmaker[Session], tenant: TenantCtx, run_id: str) -> Run:
    with factory() as session:
        scope_to_tenant(session, tenant.id)
        found = session.get(Run, run_id)
        assert found is not None
        return found


@pytest.mark.parametrize(
    ("last", "status"), [("COMPLETE", "completed"), ("FAIL", "failed"), ("ABORT", "aborted")]
)
def test_the_last_event_sets_the_status(
    session_factory: sessionmaker[Session], tenant: TenantCtx, last: str, status: str
) -> None:
    run_uuid = new_run_id()
    first = send(session_factory, tenant, run_event("START", run_uuid, inputs=[ORDERS]))
    assert run_row(session_factory, tenant, first.run_id).status == "running"
    send(session_factory, tenant, run_event("RUNNING", run_uuid, time="2026-05-01T12:01:00Z"))
    send(session_factory, tenant, run_event(last, run_uuid, time="2026-05-01T12:02:00Z"))
    run = run_row(session_factory, tenant, first.run_id)
    assert run.status == status
    assert run.ended_at is not None and run.ended_at.minute == 2


def test_a_late_start_keeps_the_end_state(
    session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    run_uuid = new_run_id()
    done = send(
        session_factory, tenant, run_event("COMPLETE", run_uuid, time="2026-05-01T12:09:00Z")
    )
    send(session_factory, tenant, run_event("START", run_uuid, time="2026-05-01T12:00:00Z"))
    run = run_row(session_factory, tenant, done.run_id)
    assert run.status == "completed"
    assert run.started_at is not None and run.started_at.minute == 0


def test_an_event_without_type_and_one_later_with_new_inputs(
    session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    run_uuid = new_run_id()
    first = send(session_factory, tenant, run_event(None, run_uuid))
    assert first.event_type is None and first.inputs == []
    users = dataset("postgres://db:5432", "users")
    later = send(
        session_factory,
        tenant,
        run_event("COMPLETE", run_uuid, time="2026-05-01T13:00:00Z", inputs=[ORDERS, users]),
    )
    assert later.run_id == first.run_id and len(later.inputs) == 2


def test_inputs_link_to_the_newest_version_not_written_by_the_run(
    session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    table = dataset("s3://lake", "totals")
    v1 = send(session_factory, tenant, run_event("COMPLETE", new_run_id(), outputs=[table]))
    v2 = send(session_factory, tenant, run_event("COMPLETE", new_run_id(), outputs=[table]))
    reader = new_run_id()
    started = send(
        session_factory, tenant, run_event("START", reader, inputs=[table], outputs=[table])
    )
    assert started.inputs == v2.outputs != v1.outputs
    # Later events of the same run keep the input it started with.
    send(session_factory, tenant, run_event("COMPLETE", new_run_id(), outputs=[table]))
    ended = send(
        session_factory,
        tenant,
        run_event("COMPLETE", reader, time="2026-05-01T12:30:00Z", inputs=[table], outputs=[table]),
    )
    assert ended.inputs == started.inputs
    assert ended.outputs == started.outputs


def test_the_same_run_id_in_two_tenants_is_two_runs(
    session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    other = bootstrap_tenant(session_factory)
    run_uuid = new_run_id()
    event = run_event("START", run_uuid, inputs=[ORDERS])
    mine, theirs = send(session_factory, tenant, event), send(session_factory, other, event)
    assert mine.run_id != theirs.run_id
    assert not mine.duplicate and not theirs.duplicate
    assert set(mine.inputs).isdisjoint(theirs.inputs)


def test_received_events_are_insert_only(
    session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    send(session_factory, tenant, run_event("START", new_run_id()))
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        with pytest.raises(DBAPIError, match="insert-only"):
            session.execute(text("UPDATE openlineage_events SET producer = 'forged'"))
        session.rollback()
        scope_to_tenant(session, tenant.id)
        with pytest.raises(DBAPIError, match="insert-only"):
            session.execute(text("DELETE FROM openlineage_events"))
        session.rollback()


def test_row_level_security_hides_other_tenants_events(
    backend: str, session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    if backend != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature; SQLite relies on repositories")
    other = bootstrap_tenant(session_factory)
    send(session_factory, tenant, run_event("START", new_run_id()))
    send(session_factory, other, run_event("START", new_run_id()))
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        seen = set(session.scalars(text("SELECT tenant_id FROM openlineage_events")))
        assert seen == {tenant.id}


def test_a_later_event_fills_in_what_the_first_did_not_know(
    session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    run_id = new_run_id()
    bare = dataset("s3://lake", "clean/orders")
    described = dataset("s3://lake", "clean/orders", [("id", "BIGINT")], uri="s3://lake/clean")
    first = send(session_factory, tenant, run_event("START", run_id, outputs=[bare]))
    later = send(
        session_factory,
        tenant,
        run_event("COMPLETE", run_id, time="2026-05-01T12:05:00+00:00", outputs=[described]),
    )
    assert first.outputs == later.outputs
    changed = dataset("s3://lake", "clean/orders", [("id", "TEXT")], uri="s3://other")
    send(
        session_factory,
        tenant,
        run_event("RUNNING", run_id, time="2026-05-01T12:06:00+00:00", outputs=[changed]),
    )
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        version = session.get_one(DatasetVersion, first.outputs[0])
        assert version.uri == "s3://lake/clean"  # known facts are never changed
        assert version.schema == [{"name": "id", "type": "BIGINT"}]
        described_events = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.tenant_id == tenant.id, AuditEvent.target_id == version.id)
            .order_by(AuditEvent.seq)
        ).all()
    assert list(described_events) == ["dataset.version", "dataset.version.describe"]
