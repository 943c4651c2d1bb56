"""Audit events: same transaction as the change, contiguous, canonical and insert-only."""

from __future__ import annotations

import threading

import orjson
import pytest
import rfc8785
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.factories import unique
from trustplane.audit import Origin, Target, record
from trustplane.audit.models import AuditEvent, LedgerHead
from trustplane.db.session import scope_to_tenant, unit_of_work
from trustplane.identity import principals
from trustplane.identity.actor import Actor
from trustplane.identity.schemas import ServiceAccountCreate


def _actor(tenant: TenantCtx) -> Actor:
    return Actor(tenant.admin_id, "admin", "user", "token", tenant.id, Origin("corr-test"))


def _seqs(factory: sessionmaker[Session], tenant_id: str) -> list[int]:
    with factory() as session:
        scope_to_tenant(session, tenant_id)
        return list(
            session.scalars(
                select(AuditEvent.seq)
                .where(AuditEvent.tenant_id == tenant_id)
                .order_by(AuditEvent.seq)
            )
        )


def test_committed_change_has_its_event(
    session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        created = principals.create_service_account(
            session, _actor(tenant), ServiceAccountCreate(name=unique("ci"))
        )
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        event = session.scalars(select(AuditEvent).where(AuditEvent.target_id == created.id)).one()
    body = orjson.loads(event.leaf)
    assert body["action"] == "principal.create"
    assert body["actor"] == {
        "id": tenant.admin_id,
        "name": "admin",
        "kind": "user",
        "auth": "token",
    }
    assert body["correlation_id"] == "corr-test"
    assert body["outcome"] == "allowed"


def test_rolled_back_change_leaves_no_event_and_no_gap(
    session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    before = _seqs(session_factory, tenant.id)
    name = unique("ghost")
    with pytest.raises(RuntimeError), unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        principals.create_service_account(session, _actor(tenant), ServiceAccountCreate(name=name))
        raise RuntimeError("crash after the change, before the commit")
    assert _seqs(session_factory, tenant.id) == before
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        record(session, _actor(tenant), "test.ping", Target("test", "1"))
    assert _seqs(session_factory, tenant.id) == list(range(len(before) + 1))


def test_concurrent_writers_get_contiguous_sequence_numbers(
    session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    start = len(_seqs(session_factory, tenant.id))
    writers, each = 8, 15
    failures: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(each):
                with unit_of_work(session_factory) as session:
                    scope_to_tenant(session, tenant.id)
                    principals.create_service_account(
                        session, _actor(tenant), ServiceAccountCreate(name=unique("sa"))
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert _seqs(session_factory, tenant.id) == list(range(start + writers * each))
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        size = session.scalar(select(LedgerHead.size).where(LedgerHead.tenant_id == tenant.id))
    assert size == start + writers * each


def test_leaf_is_rfc8785_canonical_json(
    session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        leaves = session.scalars(select(AuditEvent.leaf).where(AuditEvent.tenant_id == tenant.id))
        for leaf in leaves:
            assert rfc8785.dumps(orjson.loads(leaf)) == leaf.encode("utf-8")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'forged' WHERE tenant_id = :t",
        "DELETE FROM audit_events WHERE tenant_id = :t",
    ],
)
def test_raw_update_and_delete_are_refused(
    session_factory: sessionmaker[Session], tenant: TenantCtx, statement: str
) -> None:
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        with pytest.raises(DBAPIError, match="insert-only"):
            session.execute(text(statement), {"t": tenant.id})
        session.rollback()
        scope_to_tenant(session, tenant.id)
        count = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.tenant_id == tenant.id)
        )
    assert count and count > 0


def test_truncate_is_refused_on_postgres(
    backend: str, session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (DELETE without WHERE is covered above)")
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        with pytest.raises(DBAPIError, match="insert-only"):
            session.execute(text("TRUNCATE audit_events CASCADE"))
        session.rollback()


def test_event_fields_over_the_api(client: object, tenant: TenantCtx) -> None:
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    response = client.post(
        "/api/v1/principals/users",
        json={"name": unique("bob")},
        headers={
            **tenant.admin_headers,
            "X-Correlation-ID": "change-4711",
            "User-Agent": "pytest-agent",
        },
    )
    assert response.status_code == 201
    assert response.headers["x-correlation-id"] == "change-4711"
    events = client.get(
        "/api/v1/audit/events",
        params={"correlation_id": "change-4711"},
        headers=tenant.admin_headers,
    ).json()["items"]
    assert len(events) == 1
    event = events[0]
    assert event["action"] == "principal.create"
    assert event["target"]["id"] == response.json()["id"]
    assert event["origin"] == {"ip": "testclient", "user_agent": "pytest-agent"}
    assert event["tenant"] == tenant.id
    assert event["actor"]["auth"] == "token"
