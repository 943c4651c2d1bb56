"""Which version was in production in an environment at any past time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tests.registry.kit import API, Built, Team, act, build, digest, ok
from trustplane.db.session import scope_to_tenant


def _at(
    client: TestClient, team: Team, model: str, when: datetime, env: str = "prod"
) -> int | None:
    answer = ok(
        client.get(
            f"{API}/models/{model}/at",
            params={"time": when.isoformat(), "environment": env},
            headers=team.risk.headers,
        )
    )
    version: int | None = answer["version"]
    return version


def _approved_version(client: TestClient, team: Team, base: Built, n: int) -> tuple[str, str]:
    if n == 1:
        vid, etag = base.version_id, base.etag
    else:
        created = ok(
            client.post(
                f"{API}/models/{base.model_id}/versions",
                json={
                    "artifact_digest": digest(f"tt{n}"),
                    "run_id": base.run_id,
                    "metrics": {"a": n},
                },
                headers=team.trainer.headers,
            ),
            201,
        )
        vid, etag = created["id"], created["etag"]
    for action, member in (
        ("submit", team.trainer),
        ("validate", team.validator),
        ("approve", team.approver),
    ):
        etag = ok(act(client, member.headers, vid, action, etag))["etag"]
    return vid, etag


def test_model_at_answers_for_every_interval(client: TestClient, team: Team) -> None:
    base = build(client, team)
    v1, e1 = _approved_version(client, team, base, 1)
    v2, e2 = _approved_version(client, team, base, 2)
    t0 = datetime.fromisoformat(
        ok(client.get(f"{API}/model-versions/{v2}", headers=team.risk.headers))["updated_at"]
    )
    p1 = ok(act(client, team.deployer.headers, v1, "promote", e1, environment="prod"))
    p2 = ok(act(client, team.deployer.headers, v2, "promote", e2, environment="prod"))
    s2 = ok(act(client, team.risk.headers, v2, "suspend", p2["etag"]))
    t1, t2, t3 = (datetime.fromisoformat(x["updated_at"]) for x in (p1, p2, s2))
    assert t0 < t1 < t2 < t3
    tiny = timedelta(microseconds=1)
    model = base.model_name
    assert _at(client, team, model, t0) is None  # before any promotion
    assert _at(client, team, model, t1 - tiny) is None
    assert _at(client, team, model, t1) == 1  # valid from the promotion on (inclusive)
    assert _at(client, team, model, t2 - tiny) == 1
    assert _at(client, team, model, t2) == 2
    assert _at(client, team, model, t3 - tiny) == 2
    assert _at(client, team, model, t3) is None  # suspension ended the pointer
    assert _at(client, team, model, t3 + timedelta(days=1)) is None
    assert _at(client, team, model, t2, env="staging") is None
    interval = ok(
        client.get(
            f"{API}/models/{model}/at",
            params={"time": (t1 + tiny).isoformat(), "environment": "prod"},
            headers=team.risk.headers,
        )
    )
    assert interval["model_version_id"] == v1
    assert datetime.fromisoformat(interval["valid_from"]) == t1
    assert datetime.fromisoformat(interval["valid_to"]) == t2


def test_time_travel_input_errors(client: TestClient, team: Team) -> None:
    base = build(client, team)
    h = team.risk.headers
    naive = client.get(
        f"{API}/models/{base.model_id}/at",
        params={"time": "2026-01-01T00:00:00", "environment": "prod"},
        headers=h,
    )
    assert naive.status_code == 422
    unknown_env = client.get(
        f"{API}/models/{base.model_id}/at",
        params={"time": "2026-01-01T00:00:00Z", "environment": "mars"},
        headers=h,
    )
    assert unknown_env.status_code == 404
    unknown_model = client.get(
        f"{API}/models/nope/at",
        params={"time": "2026-01-01T00:00:00Z", "environment": "prod"},
        headers=h,
    )
    assert unknown_model.status_code == 404


def test_pointer_history_is_insert_only(
    client: TestClient, team: Team, session_factory: sessionmaker[Session]
) -> None:
    """The database itself refuses to rewrite the past."""
    base = build(client, team)
    v1, e1 = _approved_version(client, team, base, 1)
    ok(act(client, team.deployer.headers, v1, "promote", e1, environment="prod"))
    for table in ("pointer_history", "model_transitions"):
        session: Session = session_factory()
        try:
            scope_to_tenant(session, team.tenant.id)
            with pytest.raises(DBAPIError, match="insert-only"):
                session.execute(text(f"UPDATE {table} SET intent = 'rewritten'"))  # noqa: S608
            session.rollback()
            scope_to_tenant(session, team.tenant.id)
            with pytest.raises(DBAPIError, match="insert-only"):
                session.execute(text(f"DELETE FROM {table}"))  # noqa: S608
            session.rollback()
        finally:
            session.close()
