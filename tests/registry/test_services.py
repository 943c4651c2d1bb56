"""The service functions OpenLineage ingest builds on, and the rules of records and links."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.registry.kit import digest
from trustplane.audit import Origin
from trustplane.audit.models import AuditEvent
from trustplane.db.session import scope_to_tenant, unit_of_work
from trustplane.errors import Conflict, InvalidInput, NotFound
from trustplane.identity.actor import Actor, Grant
from trustplane.identity.roles import Role
from trustplane.registry import datasets, features, runs
from trustplane.registry.models import LineageEdge, Run
from trustplane.registry.repository import dataset_by_name
from trustplane.registry.schemas import FeatureCreate, FeatureVersionCreate


@pytest.fixture
def actor(tenant: TenantCtx) -> Actor:
    return Actor(
        tenant.admin_id,
        "ingest",
        "service_account",
        "token",
        tenant.id,
        Origin("services-test"),
        grants=(Grant("bd_x", Role.DATA_STEWARD, None),),
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session], tenant: TenantCtx) -> Iterator[Session]:
    with unit_of_work(session_factory) as s:
        scope_to_tenant(s, tenant.id)
        yield s


def _events(session: Session, tenant_id: str, action: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.tenant_id == tenant_id, AuditEvent.action == action)
        )
        or 0
    )


def test_ensure_dataset_gets_or_creates_once(session: Session, actor: Actor) -> None:
    first = datasets.ensure_dataset(session, actor, namespace="s3://lake", name="raw/loans")
    again = datasets.ensure_dataset(session, actor, namespace="s3://lake", name="raw/loans")
    other = datasets.ensure_dataset(
        session, actor, namespace="postgres://db:5432", name="raw/loans"
    )
    assert first.id == again.id != other.id
    assert first.id.startswith("ds_")
    assert _events(session, actor.tenant_id or "", "dataset.register") == 2


def test_ensure_dataset_version_by_content(session: Session, actor: Actor) -> None:
    ds = datasets.ensure_dataset(session, actor, namespace="s3://lake", name="loans")
    schema = [{"name": "id", "type": "int"}, {"name": "amount", "type": "decimal"}]
    a = datasets.ensure_dataset_version(session, actor, ds, uri="s3://lake/loans", schema=schema)
    b = datasets.ensure_dataset_version(session, actor, ds, uri="s3://lake/loans", schema=schema)
    c = datasets.ensure_dataset_version(
        session, actor, ds, uri="s3://lake/loans", schema=schema[:1]
    )
    assert a.id == b.id != c.id
    assert a.version == datasets.content_label("s3://lake/loans", schema, None)
    assert a.version.startswith("auto-") and len(a.version) == 5 + 24
    assert a.digest is None and a.approval_status == "pending"
    labelled = datasets.ensure_dataset_version(
        session, actor, ds, version="2026-11-01", digest=digest("x")
    )
    assert labelled.version == "2026-11-01"
    with pytest.raises(Conflict, match="another digest"):
        datasets.ensure_dataset_version(
            session, actor, ds, version="2026-11-01", digest=digest("y")
        )
    with pytest.raises(InvalidInput, match="sha256"):
        datasets.ensure_dataset_version(session, actor, ds, digest="md5:abc")


def test_record_and_update_a_run_by_external_id(session: Session, actor: Actor) -> None:
    ds = datasets.ensure_dataset(session, actor, namespace="s3://lake", name="in")
    dv_in = datasets.ensure_dataset_version(session, actor, ds, version="1")
    out = datasets.ensure_dataset(session, actor, namespace="s3://lake", name="out")
    dv_out = datasets.ensure_dataset_version(session, actor, out, version="1")
    started = datetime.now(UTC)
    run = runs.record_run(
        session,
        actor,
        job_namespace="airflow",
        job_name="train",
        external_run_id="0190a5b6-0000-7000-8000-000000000001",
        inputs=[dv_in.id],
        status="running",
        started_at=started,
    )
    assert run.id.startswith("run_")
    with pytest.raises(Conflict, match="already recorded"):
        runs.record_run(session, actor, external_run_id=run.external_run_id)
    done = runs.update_run(
        session,
        actor,
        external_run_id=run.external_run_id or "",
        outputs=[dv_out.id],
        status="completed",
        ended_at=started + timedelta(minutes=5),
    )
    assert done.id == run.id and done.status == "completed"
    edges = {
        (e.source_id, e.target_id, e.relation)
        for e in session.scalars(
            select(LineageEdge).where(LineageEdge.tenant_id == actor.tenant_id)
        )
    }
    assert {(dv_in.id, run.id, "input"), (run.id, dv_out.id, "output")} <= edges
    # the same COMPLETE again adds nothing new
    runs.update_run(session, actor, external_run_id=run.external_run_id or "", outputs=[dv_out.id])
    assert (
        session.scalar(
            select(func.count()).select_from(LineageEdge).where(LineageEdge.target_id == dv_out.id)
        )
        == 1
    )
    with pytest.raises(NotFound):
        runs.update_run(session, actor, external_run_id="missing")
    with pytest.raises(InvalidInput, match="before"):
        runs.update_run(
            session,
            actor,
            external_run_id=run.external_run_id or "",
            ended_at=started - timedelta(1),
        )


def test_runs_refuse_cycles(session: Session, actor: Actor) -> None:
    ds = datasets.ensure_dataset(session, actor, namespace="n", name="a")
    a = datasets.ensure_dataset_version(session, actor, ds, version="1")
    b = datasets.ensure_dataset_version(session, actor, ds, version="2")
    with pytest.raises(InvalidInput, match="cycle"):
        runs.record_run(session, actor, inputs=[a.id], outputs=[a.id])
    first = runs.record_run(session, actor, inputs=[a.id], outputs=[b.id])
    # b is derived from a, so a run reading b cannot write a
    with pytest.raises(InvalidInput, match=r"cycle.*upstream"):
        runs.record_run(session, actor, inputs=[b.id], outputs=[a.id])
    assert first.id


def test_unknown_and_wrong_kind_references(session: Session, actor: Actor) -> None:
    with pytest.raises(NotFound, match="dv_01NOPE"):
        runs.record_run(session, actor, inputs=["dv_01NOPE"])
    with pytest.raises(InvalidInput, match="not a dataset_version"):
        runs.record_run(session, actor, outputs=["fv_01X"])
    with pytest.raises(InvalidInput, match="not a dataset_version or feature_version"):
        runs.record_run(session, actor, inputs=["mv_01X"])
    assert (
        session.scalar(
            select(func.count()).select_from(Run).where(Run.tenant_id == actor.tenant_id)
        )
        == 0
    )


def test_feature_versions_link_their_sources(session: Session, actor: Actor) -> None:
    ds = datasets.ensure_dataset(session, actor, namespace="n", name="loans")
    dv = datasets.ensure_dataset_version(session, actor, ds, version="1")
    ft = features.define(session, actor, FeatureCreate(name="debt_ratio", owner="risk"))
    fv = features.create_version(
        session,
        actor,
        "debt_ratio",
        FeatureVersionCreate(
            version="1", definition="debt / income", source_dataset_versions=[dv.id, dv.id]
        ),
    )
    assert fv.source_dataset_versions == [dv.id]
    assert fv.owner == "risk" and ft.id.startswith("ft_") and fv.id.startswith("fv_")
    edge = session.get_one(LineageEdge, (actor.tenant_id, dv.id, fv.id))
    assert edge.relation == "source"
    with pytest.raises(Conflict):
        features.create_version(
            session, actor, ft.id, FeatureVersionCreate(version="1", definition="x")
        )


def test_a_failed_write_leaves_nothing(
    session_factory: sessionmaker[Session], actor: Actor, tenant: TenantCtx
) -> None:
    """The run is added and flushed before its reference check fails: the rollback undoes all."""
    with pytest.raises(InvalidInput), unit_of_work(session_factory) as s:
        scope_to_tenant(s, tenant.id)
        ds = datasets.ensure_dataset(s, actor, namespace="n", name="half")
        a = datasets.ensure_dataset_version(s, actor, ds, version="1")
        runs.record_run(s, actor, inputs=[a.id], outputs=[a.id])
    with session_factory() as s:
        scope_to_tenant(s, tenant.id)
        found = dataset_by_name(s, tenant.id, "n", "half")
        assert found is None
        assert _events(s, tenant.id, "dataset.register") == 0
