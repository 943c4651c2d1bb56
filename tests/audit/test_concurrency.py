"""Many writers, one ledger: indices stay contiguous and the tree verifies.

Each writer creates service accounts, one transaction each, through the code path a request
takes (a writer unit of work, scoped to the tenant, the identity service recording the event).
Every 25th transaction records its event and then rolls back, and a checkpointer signs tree
heads while the writers run. PostgreSQL runs the full 8 writers x 1,000 events the ledger
issue asks for; SQLite, whose writers queue on one database lock, a smaller round.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import bootstrap_tenant, unique
from trustplane.audit import Origin
from trustplane.audit.checkpoints import create_checkpoint, origin_for, signer_from_settings
from trustplane.audit.export import export_ledger
from trustplane.audit.fsck import fsck
from trustplane.audit.models import AuditEvent, LedgerHead
from trustplane.audit.verify import verify_export
from trustplane.config import Settings
from trustplane.db.session import scope_to_tenant, unit_of_work
from trustplane.identity import principals
from trustplane.identity.actor import Actor
from trustplane.identity.models import Principal
from trustplane.identity.schemas import ServiceAccountCreate

ROUNDS = {"postgresql": (8, 1000), "sqlite": (4, 100)}  # writers, committed events each
ROLLBACK_EVERY = 25


class Abandoned(Exception):
    """Raised inside a unit of work after its event was recorded, so it rolls back."""


@dataclass
class Outcome:
    committed: dict[str, list[str]] = field(default_factory=dict)  # writer -> target ids in order
    abandoned: list[str] = field(default_factory=list)  # names whose transaction rolled back
    failures: list[BaseException] = field(default_factory=list)
    checkpoints: list[int] = field(default_factory=list)


def writer(
    factory: sessionmaker[Session], actor: Actor, each: int, name: str, out: Outcome
) -> None:
    done: list[str] = []
    out.committed[name] = done
    attempt = 0
    try:
        while len(done) < each:
            attempt += 1
            account = ServiceAccountCreate(name=unique(name))
            try:
                with unit_of_work(factory) as session:
                    scope_to_tenant(session, actor.tenant_id)
                    created = principals.create_service_account(session, actor, account)
                    if attempt % ROLLBACK_EVERY == 0:
                        raise Abandoned
            except Abandoned:
                out.abandoned.append(account.name)
                continue
            done.append(created.id)
    except BaseException as exc:  # reported by the test
        out.failures.append(exc)


def checkpointer(
    factory: sessionmaker[Session],
    cfg: Settings,
    tenant_id: str,
    stop: threading.Event,
    out: Outcome,
) -> None:
    signer = signer_from_settings(cfg)
    try:
        while True:
            with unit_of_work(factory) as session:
                scope_to_tenant(session, tenant_id)
                out.checkpoints.append(
                    create_checkpoint(session, tenant_id, signer, cfg.ledger_name).size
                )
            if stop.wait(0.25):
                return
    except BaseException as exc:
        out.failures.append(exc)


def test_concurrent_writers_keep_the_ledger_contiguous_and_verifiable(
    backend: str, session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    writers, each = ROUNDS[backend]
    tenant = bootstrap_tenant(session_factory)
    actor = Actor(tenant.admin_id, "admin", "user", "token", tenant.id, Origin("concurrency"))
    start = ledger_size(session_factory, tenant.id)
    out, stop = Outcome(), threading.Event()
    threads = [
        threading.Thread(target=writer, args=(session_factory, actor, each, f"w{w}", out))
        for w in range(writers)
    ]
    signing = threading.Thread(
        target=checkpointer, args=(session_factory, settings, tenant.id, stop, out)
    )
    began = time.perf_counter()
    for thread in [*threads, signing]:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    signing.join()
    elapsed = time.perf_counter() - began
    assert out.failures == []
    total = writers * each
    print(
        f"{backend}: {total} events by {writers} writers in {elapsed:.1f} s "
        f"({total / elapsed:.0f}/s), {len(out.abandoned)} rolled back, "
        f"{len(set(out.checkpoints))} checkpoints signed meanwhile"
    )

    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        rows = session.execute(
            select(AuditEvent.seq, AuditEvent.target_id, AuditEvent.action)
            .where(AuditEvent.tenant_id == tenant.id, AuditEvent.seq >= start)
            .order_by(AuditEvent.seq)
        ).all()
        ghosts = session.scalar(
            select(func.count())
            .select_from(Principal)
            .where(Principal.tenant_id == tenant.id, Principal.name.in_(out.abandoned))
        )
        head = session.scalar(select(LedgerHead.size).where(LedgerHead.tenant_id == tenant.id))
    assert [seq for seq, _, _ in rows] == list(range(start, start + total))
    assert head == start + total
    assert {action for _, _, action in rows} == {"principal.create"}
    targets = [target for _, target, _ in rows]
    assert sorted(targets) == sorted(t for done in out.committed.values() for t in done)
    for done in out.committed.values():  # each writer's events in the order it wrote them
        mine = set(done)
        assert [t for t in targets if t in mine] == done
    assert len(out.abandoned) >= writers * (each // ROLLBACK_EVERY - 1)
    assert ghosts == 0
    assert out.checkpoints

    signer = signer_from_settings(settings)
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        report = fsck(
            session,
            tenant.id,
            verifier=signer.verifier(),
            origin=origin_for(settings.ledger_name, tenant.id),
        )
    assert report.ok, report.problems
    assert report.events == start + total
    assert set(out.checkpoints) <= set(report.checked_checkpoints)
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        export_ledger(session, tenant.id, signer, settings.ledger_name, tmp_path / "export")
    verified = verify_export(tmp_path / "export", key=signer.verifier().key_string())
    assert verified.ok, verified.failures
    assert verified.events == start + total
    assert set(out.checkpoints) <= set(verified.checked_checkpoints)


def ledger_size(factory: sessionmaker[Session], tenant_id: str) -> int:
    with factory() as session:
        scope_to_tenant(session, tenant_id)
        size = session.scalar(select(LedgerHead.size).where(LedgerHead.tenant_id == tenant_id))
    return int(size or 0)
