"""Racing transitions with real concurrency: threads, each with its own connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import Member
from tests.registry.kit import API, Built, Team, act, build, digest, ok
from trustplane.audit import Origin
from trustplane.db.session import scope_to_tenant, unit_of_work
from trustplane.errors import PreconditionFailed
from trustplane.identity.actor import Actor, Grant
from trustplane.identity.roles import Role
from trustplane.registry import datasets, transitions, versions
from trustplane.registry.lifecycle import Action
from trustplane.registry.schemas import ModelVersionCreate, TransitionRequest


def _actor(member: Member, tenant_id: str, role: Role) -> Actor:
    return Actor(
        member.id,
        member.name,
        "user",
        "token",
        tenant_id,
        Origin("race-test"),
        grants=(Grant("bd_test", role, None),),
    )


def _race(
    factory: sessionmaker[Session], tenant_id: str, jobs: list[Callable[[Session], Any]]
) -> list[Any]:
    """Run ``jobs`` at the same moment, each in its own unit of work; return results/errors."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[Session], Any]) -> Any:
        barrier.wait()
        try:
            with unit_of_work(factory) as session:
                scope_to_tenant(session, tenant_id)
                return job(session)
        except Exception as exc:  # the outcome is what the test compares
            return exc

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, jobs))


def _approved(client: TestClient, team: Team, built: Built) -> str:
    etag = built.etag
    for action, member in (
        ("submit", team.trainer),
        ("validate", team.validator),
        ("approve", team.approver),
    ):
        etag = ok(act(client, member.headers, built.version_id, action, etag))["etag"]
    return str(etag)


def _promote(
    deployer: Actor, version_id: str, etag: str, env: str, attempt: int
) -> Callable[[Session], Any]:
    body = TransitionRequest(intent=f"race {attempt}", environment=env)
    return lambda s: (
        transitions.transition(s, deployer, version_id, Action.PROMOTE, body, etag).etag
    )


def test_two_promotions_with_the_same_etag_one_wins(
    client: TestClient, team: Team, session_factory: sessionmaker[Session]
) -> None:
    deployer = _actor(team.deployer, team.tenant.id, Role.DEPLOYER)
    for attempt in range(3):
        built = build(client, team)
        etag = _approved(client, team, built)

        jobs = [_promote(deployer, built.version_id, etag, e, attempt) for e in ("prod", "staging")]
        results = _race(session_factory, team.tenant.id, jobs)
        winners = [r for r in results if isinstance(r, str)]
        losers = [r for r in results if isinstance(r, PreconditionFailed)]
        assert (len(winners), len(losers)) == (1, 1), results
        now = ok(client.get(f"{API}/model-versions/{built.version_id}", headers=team.risk.headers))
        assert now["etag"] == winners[0]
        assert len(now["production_in"]) == 1
        history = ok(
            client.get(
                f"{API}/model-versions/{built.version_id}/history", headers=team.risk.headers
            )
        )["items"]
        assert [h["action"] for h in history].count("promote") == 1


def test_racing_promotions_of_two_versions_guarded_by_replaces(
    client: TestClient, team: Team, session_factory: sessionmaker[Session]
) -> None:
    deployer = _actor(team.deployer, team.tenant.id, Role.DEPLOYER)
    first = build(client, team)
    created = ok(
        client.post(
            f"{API}/models/{first.model_id}/versions",
            json={"artifact_digest": digest("v2"), "run_id": first.run_id, "metrics": {"a": 1}},
            headers=team.trainer.headers,
        ),
        201,
    )
    second = Built(first.model_id, first.model_name, created["id"], created["etag"], "", "")
    etags = {first.version_id: _approved(client, team, first)}
    etags[second.version_id] = _approved(client, team, second)

    def promote(version_id: str) -> Callable[[Session], Any]:
        body = TransitionRequest(intent="race", environment="prod", replaces="none")
        return lambda s: (
            transitions.transition(
                s, deployer, version_id, Action.PROMOTE, body, etags[version_id]
            ).id
        )

    results = _race(
        session_factory, team.tenant.id, [promote(first.version_id), promote(second.version_id)]
    )
    winners = [r for r in results if isinstance(r, str)]
    assert len(winners) == 1, results
    assert isinstance(next(r for r in results if not isinstance(r, str)), PreconditionFailed)
    pointers = ok(
        client.get(f"{API}/models/{first.model_id}/production", headers=team.risk.headers)
    )
    assert [(p["environment"], p["model_version_id"]) for p in pointers] == [("prod", winners[0])]


def test_concurrent_version_creation_numbers_without_gaps(
    client: TestClient, team: Team, session_factory: sessionmaker[Session]
) -> None:
    trainer = _actor(team.trainer, team.tenant.id, Role.TRAINER)
    built = build(client, team)

    def create(i: int) -> Callable[[Session], Any]:
        body = ModelVersionCreate(artifact_digest=digest(f"c{i}"))
        return lambda s: versions.create(s, trainer, built.model_id, body).version

    results = _race(session_factory, team.tenant.id, [create(i) for i in range(6)])
    assert sorted(results) == [2, 3, 4, 5, 6, 7], results


def test_concurrent_ensure_dataset_returns_one_row(
    client: TestClient, team: Team, session_factory: sessionmaker[Session]
) -> None:
    """OpenLineage events racing to report the same dataset and version create it once."""
    steward = _actor(team.steward, team.tenant.id, Role.DATA_STEWARD)

    def ensure(session: Session) -> tuple[str, str]:
        ds = datasets.ensure_dataset(session, steward, namespace="s3://race", name="events")
        dv = datasets.ensure_dataset_version(session, steward, ds, uri="s3://race/events")
        return ds.id, dv.id

    results = _race(session_factory, team.tenant.id, [ensure] * 4)
    assert all(isinstance(r, tuple) for r in results), results
    assert len(set(results)) == 1
    listed = ok(
        client.get(
            f"{API}/datasets", params={"namespace": "s3://race"}, headers=team.steward.headers
        )
    )
    assert [d["id"] for d in listed["items"]] == [results[0][0]]
