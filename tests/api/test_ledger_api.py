"""Checkpoints, proofs and the public key over the API; periodic checkpoints of the server."""

from __future__ import annotations

import base64
import time
import warnings
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.factories import add_member, bootstrap_tenant, unique
from tests.tamper import triggers_off
from trustplane.api import checkpointer
from trustplane.api.app import create_app
from trustplane.audit import merkle, notes
from trustplane.config import Settings
from trustplane.db.session import scope_to_tenant

API = "/api/v1/audit"


def b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def get(client: TestClient, path: str, tenant: TenantCtx, **params: Any) -> Any:
    response = client.get(f"{API}{path}", params=params, headers=tenant.admin_headers)
    assert response.status_code == 200, response.text
    return response.json()


def verifier(client: TestClient, tenant: TenantCtx) -> notes.Verifier:
    response = client.get(f"{API}/public-key", headers=tenant.admin_headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return notes.Verifier.from_key_string(response.text.strip())


def grow(client: TestClient, tenant: TenantCtx, count: int) -> None:
    for _ in range(count):
        made = client.post(
            "/api/v1/principals/users", json={"name": unique("u")}, headers=tenant.admin_headers
        )
        assert made.status_code == 201


def events(client: TestClient, tenant: TenantCtx) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = get(client, "/events", tenant, limit=500)["items"]
    return items


def test_public_key_is_the_apps_signer(client: TestClient, tenant: TenantCtx) -> None:
    key = verifier(client, tenant)
    app: Any = client.app
    assert key == app.state.signer.verifier()


def test_latest_checkpoint_is_signed_for_the_tenant(client: TestClient, tenant: TenantCtx) -> None:
    cp = get(client, "/checkpoint", tenant)
    body = notes.verify_checkpoint(cp["note"], verifier(client, tenant))
    assert body.origin == cp["origin"] == f"trustplane/ledger/{tenant.id}"
    assert (body.size, body.root_hash) == (cp["size"], b64(cp["root_hash"]))
    assert body.size == len(events(client, tenant))
    assert get(client, "/checkpoint", tenant)["note"] == cp["note"]  # stored, not re-signed


def test_create_checkpoint_is_idempotent_per_size(client: TestClient, tenant: TenantCtx) -> None:
    first = client.post(f"{API}/checkpoints", headers=tenant.admin_headers)
    assert first.status_code == 201, first.text
    again = client.post(f"{API}/checkpoints", headers=tenant.admin_headers)
    assert again.json() == first.json()
    grow(client, tenant, 1)
    newer = client.post(f"{API}/checkpoints", headers=tenant.admin_headers).json()
    assert newer["size"] == first.json()["size"] + 1
    assert get(client, "/checkpoint", tenant) == newer
    listed = get(client, "/checkpoints", tenant)
    assert [c["size"] for c in listed["items"]] == [first.json()["size"], newer["size"]]
    page = get(client, "/checkpoints", tenant, limit=1)
    assert page["next_cursor"] == str(first.json()["size"])
    rest = get(client, "/checkpoints", tenant, limit=1, cursor=page["next_cursor"])
    assert rest["items"] == [newer] and rest["next_cursor"] is None


def test_creating_a_checkpoint_records_no_event(client: TestClient, tenant: TenantCtx) -> None:
    before = len(events(client, tenant))
    cp = client.post(f"{API}/checkpoints", headers=tenant.admin_headers).json()
    assert cp["size"] == before == len(events(client, tenant))


def test_inclusion_proofs_of_every_event_verify(client: TestClient, tenant: TenantCtx) -> None:
    grow(client, tenant, 3)
    cp = client.post(f"{API}/checkpoints", headers=tenant.admin_headers).json()
    body = notes.verify_checkpoint(cp["note"], verifier(client, tenant))
    for event in events(client, tenant):
        by_index = get(client, "/proofs/inclusion", tenant, index=event["seq"])
        by_id = get(client, "/proofs/inclusion", tenant, event_id=event["id"])
        assert by_index == by_id
        assert (by_id["event_id"], by_id["index"], by_id["tree_size"]) == (
            event["id"],
            event["seq"],
            body.size,
        )
        leaf_hash = merkle.leaf_hash(by_id["leaf"].encode("utf-8"))
        assert b64(by_id["leaf_hash"]) == leaf_hash
        assert b64(by_id["root_hash"]) == body.root_hash
        path = [b64(h) for h in by_id["audit_path"]]
        merkle.verify_inclusion(leaf_hash, event["seq"], body.size, path, body.root_hash)
    older = get(client, "/proofs/inclusion", tenant, index=0, tree_size=2)
    merkle.verify_inclusion(
        b64(older["leaf_hash"]),
        0,
        2,
        [b64(h) for h in older["audit_path"]],
        b64(older["root_hash"]),
    )


def test_consistency_proofs_between_all_sizes_verify(client: TestClient, tenant: TenantCtx) -> None:
    size = get(client, "/checkpoint", tenant)["size"]
    roots: dict[int, bytes] = {}
    for second in range(1, size + 1):
        for first in range(1, second + 1):
            proof = get(client, "/proofs/consistency", tenant, first=first, second=second)
            assert (proof["first"], proof["second"]) == (first, second)
            first_root, second_root = b64(proof["first_root"]), b64(proof["second_root"])
            assert roots.setdefault(first, first_root) == first_root
            merkle.verify_consistency(
                first, second, [b64(h) for h in proof["proof"]], first_root, second_root
            )


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/proofs/inclusion", {"event_id": "evt_01NOSUCHEVENT"}, 404, "not-found"),
        ("/proofs/inclusion", {"index": 10**6}, 400, "invalid-input"),
        ("/proofs/inclusion", {"index": -1}, 400, "invalid-input"),
        ("/proofs/inclusion", {"index": 0, "tree_size": 10**6}, 400, "invalid-input"),
        ("/proofs/inclusion", {"index": 0, "tree_size": 0}, 400, "invalid-input"),
        ("/proofs/inclusion", {"index": 10**30}, 400, "invalid-input"),
        ("/proofs/inclusion", {}, 400, "invalid-input"),
        ("/proofs/inclusion", {"index": "x"}, 422, "validation-error"),
        ("/proofs/consistency", {"first": 3, "second": 2}, 400, "invalid-input"),
        ("/proofs/consistency", {"first": 0, "second": 2}, 400, "invalid-input"),
        ("/proofs/consistency", {"first": 1, "second": 10**6}, 400, "invalid-input"),
        ("/proofs/consistency", {"first": 1}, 422, "validation-error"),
        ("/checkpoints", {"cursor": "x"}, 400, "invalid-input"),
        ("/checkpoints", {"cursor": "9" * 30}, 400, "invalid-input"),
    ],
)
def test_impossible_requests_are_problems(
    client: TestClient,
    tenant: TenantCtx,
    path: str,
    params: dict[str, Any],
    status: int,
    code: str,
) -> None:
    response = client.get(f"{API}{path}", params=params, headers=tenant.admin_headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith(f"/{code}")


def test_event_after_the_tree_size_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    last = events(client, tenant)[-1]
    response = client.get(
        f"{API}/proofs/inclusion",
        params={"event_id": last["id"], "tree_size": 1},
        headers=tenant.admin_headers,
    )
    assert response.status_code == 400
    assert "outside the tree of size 1" in response.json()["detail"]


def test_other_tenants_events_are_not_found(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    other = bootstrap_tenant(session_factory)
    for event in events(client, tenant)[:3]:
        response = client.get(
            f"{API}/proofs/inclusion",
            params={"event_id": event["id"]},
            headers=other.admin_headers,
        )
        assert response.status_code == 404
    mine = get(client, "/checkpoint", other)
    assert mine["origin"].endswith(other.id)


def test_auditor_reads_but_cannot_sign(client: TestClient, tenant: TenantCtx) -> None:
    auditor = add_member(client, tenant, "auditor")
    assert client.get(f"{API}/checkpoint", headers=auditor.headers).status_code == 200
    assert client.get(f"{API}/public-key", headers=auditor.headers).status_code == 200
    assert client.post(f"{API}/checkpoints", headers=auditor.headers).status_code == 403
    trainer = add_member(client, tenant, "trainer")
    assert client.get(f"{API}/checkpoint", headers=trainer.headers).status_code == 403


def test_server_signs_checkpoints_periodically(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    periodic = settings.model_copy(update={"checkpoint_interval_seconds": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = TestClient(create_app(periodic), raise_server_exceptions=False)
    with client:
        tenant = bootstrap_tenant(session_factory)
        first = wait_for_checkpoint(client, tenant, at_least=1)
        grow(client, tenant, 2)
        second = wait_for_checkpoint(client, tenant, at_least=first["size"] + 2)
        body = notes.verify_checkpoint(second["note"], verifier(client, tenant))
        assert body.size == len(events(client, tenant))


def wait_for_checkpoint(client: TestClient, tenant: TenantCtx, at_least: int) -> dict[str, Any]:
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        items = get(client, "/checkpoints", tenant, limit=500)["items"]
        if items and items[-1]["size"] >= at_least:
            latest: dict[str, Any] = items[-1]
            return latest
        time.sleep(0.1)
    raise AssertionError(f"no periodic checkpoint of size >= {at_least} within 8 s")


def test_a_failing_round_is_logged_and_the_next_one_runs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def work(*_args: object) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database on fire")
        return 1

    monkeypatch.setattr(checkpointer, "checkpoint_grown_ledgers", work)
    signer = notes.Signer.generate("t")

    async def main() -> None:
        with anyio.move_on_after(1):
            await checkpointer.run_checkpoints(0.05, sessionmaker(), signer, "t")

    anyio.run(main)
    assert len(calls) >= 3
    assert "periodic checkpoint round failed" in caplog.text


def test_a_damaged_ledger_is_a_named_problem_not_a_traceback(
    client: TestClient, session_factory: sessionmaker[Session], backend: str
) -> None:
    tenant = bootstrap_tenant(session_factory)
    size = get(client, "/checkpoint", tenant)["size"]
    assert size >= 2
    with session_factory.begin() as session:
        scope_to_tenant(session, tenant.id)
        with triggers_off(session, backend, "ledger_nodes"):
            session.execute(
                text("DELETE FROM ledger_nodes WHERE tenant_id = :t AND level = 0 AND idx = 0"),
                {"t": tenant.id},
            )
    response = client.get(
        f"{API}/proofs/inclusion",
        params={"index": 1, "tree_size": size},
        headers=tenant.admin_headers,
    )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/ledger-integrity")
    assert "trustplane audit fsck" in response.json()["detail"]
    assert "Traceback" not in response.text
