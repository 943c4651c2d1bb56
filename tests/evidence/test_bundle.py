"""Evidence bundles: built by the API, verified offline, checked by securesystemslib too."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

from tests.conftest import TenantCtx
from tests.evidence.kit import (
    GAP_RULE,
    Released,
    evidence,
    public_pem,
    released,
    signer_of,
    statement_of,
)
from tests.factories import bootstrap_tenant
from tests.registry.kit import API
from trustplane.audit import notes
from trustplane.audit.canonical import canonical_json
from trustplane.evidence import dsse
from trustplane.evidence.verify import verify_envelope


@pytest.fixture
def story(client: TestClient, tenant: TenantCtx) -> Released:
    return released(client, tenant)


def test_the_bundle_round_trips_and_holds_the_release(
    client: TestClient, tenant: TenantCtx, story: Released
) -> None:
    envelope = evidence(client, tenant, story.release_id)
    report = verify_envelope(envelope, public_pem(client, tenant))
    assert report.ok, report.failures
    assert not report.warnings
    statement = statement_of(envelope)
    predicate = statement["predicate"]
    promotion = predicate["promotion"]
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"][0]["digest"]["sha256"] == promotion["artifact_digest"][7:]
    assert (promotion["id"], promotion["environment"]) == (story.release_id, "prod")
    assert promotion["category"] == "business-request"
    decisions = {d["id"]: d for d in predicate["decisions"]}
    assert decisions[story.denied_decision]["allowed"] is False
    assert GAP_RULE in decisions[story.denied_decision]["violations"]
    assert decisions[promotion["decision_id"]]["waived"] == [GAP_RULE]
    assert {a["role"] for a in predicate["approvals"]} == {"release-approver"}
    assert len({a["principal_id"] for a in predicate["approvals"]}) == 2
    [waiver] = predicate["waivers"]
    assert waiver["compensating_control"] == "monthly manual review of outcomes by group"
    assert waiver["status"] == "approved"
    assert predicate["run"]["commit"] == "a" * 40
    assert predicate["lineage"]["datasets"][0]["approval_status"] == "approved"
    assert story.release.built.model_name in predicate["model_card"]["markdown"]
    actions = {json.loads(e["leaf"])["action"] for e in predicate["ledger"]["events"]}
    assert {"model.register", "run.record", "dataset.version", "model.promote"} <= actions
    assert {"waiver.request", "waiver.approve", "policy.decision.promote"} <= actions
    # the statement is canonical JSON: the signed bytes re-encode to themselves
    payload = base64.b64decode(json.loads(envelope)["payload"])
    assert canonical_json(json.loads(payload)) == payload


def test_securesystemslib_verifies_the_envelope(
    client: TestClient, tenant: TenantCtx, story: Released
) -> None:
    envelope = json.loads(evidence(client, tenant, story.release_id))
    key = dsse.load_public_pem(public_pem(client, tenant))
    sslib_key = SSlibKey(
        keyid=dsse.key_id(key),
        keytype="ed25519",
        scheme="ed25519",
        keyval={"public": dsse.raw_public(key).hex()},
    )
    assert envelope["signatures"][0]["keyid"] == dsse.key_id(key)
    accepted = Envelope.from_dict(envelope).verify([sslib_key], 1)
    assert list(accepted) == [dsse.key_id(key)]


def _resign(client: TestClient, statement: dict[str, Any]) -> bytes:
    """The statement signed again with the server's own key: only the inner checks remain."""
    return json.dumps(dsse.sign(canonical_json(statement), signer_of(client))).encode()


def _failures(envelope: bytes, pem: bytes, **extra: Any) -> str:
    report = verify_envelope(envelope, pem, **extra)
    assert not report.ok
    return " | ".join(report.failures)


def test_every_tampering_is_caught(
    client: TestClient, tenant: TenantCtx, story: Released, tmp_path: Path
) -> None:
    pem = public_pem(client, tenant)
    envelope = evidence(client, tenant, story.release_id)
    document = json.loads(envelope)

    flipped = bytearray(base64.b64decode(document["payload"]))
    flipped[len(flipped) // 2] ^= 0x01
    changed = {**document, "payload": base64.b64encode(bytes(flipped)).decode()}
    assert "DSSE signature" in _failures(json.dumps(changed).encode(), pem)

    other = json.loads(evidence(client, tenant, story.release_id))  # signed at another time
    swapped = {**document, "signatures": other["signatures"]}
    assert other["payload"] != document["payload"]  # generated_at differs
    assert "DSSE signature" in _failures(json.dumps(swapped).encode(), pem)
    wrong_key = dsse.public_pem(notes.Signer.generate("other")._key.public_key())
    assert "no signature" in _failures(envelope, wrong_key)

    statement = statement_of(envelope)
    events = statement["predicate"]["ledger"]["events"]
    events[0]["inclusion_proof"], events[1]["inclusion_proof"] = (
        events[1]["inclusion_proof"],
        events[0]["inclusion_proof"],
    )
    assert "not proven" in _failures(_resign(client, statement), pem)

    statement = statement_of(envelope)
    ledger = statement["predicate"]["ledger"]
    text, _ = notes.parse_note(ledger["checkpoint"])
    ledger["checkpoint"] = notes.sign_note(text, notes.Signer.generate(signer_of(client).name))
    assert "checkpoint" in _failures(_resign(client, statement), pem)

    statement = statement_of(envelope)
    statement["predicate"]["approvals"][0]["artifact_digest"] = "sha256:" + "0" * 64
    assert "another digest" in _failures(_resign(client, statement), pem)

    statement = statement_of(envelope)
    decision = statement["predicate"]["decisions"][-1]
    decision["input_digest"] = "sha256:" + "1" * 64
    assert f"decision {decision['id']} differs" in _failures(_resign(client, statement), pem)

    statement = statement_of(envelope)
    del statement["predicate"]["ledger"]["events"][0]["leaf"]
    statement["predicate"]["promotion"] = "not an object"
    assert "malformed" in _failures(_resign(client, statement), pem)

    missing = tmp_path / "no-such-model.pkl"
    assert "no-such-model.pkl" in _failures(envelope, pem, artifact=missing)
    other_file = tmp_path / "model.pkl"
    other_file.write_bytes(b"not the model")
    assert "has digest" in _failures(envelope, pem, artifact=other_file)


def test_without_a_key_the_bundle_checks_itself_and_says_so(
    client: TestClient, tenant: TenantCtx, story: Released
) -> None:
    report = verify_envelope(evidence(client, tenant, story.release_id))
    assert report.ok, report.failures
    assert "--key" in report.warnings[0]


def test_unknown_and_foreign_releases_are_not_found(
    client: TestClient, tenant: TenantCtx, story: Released, session_factory: Any
) -> None:
    missing = client.get(f"{API}/releases/rel_nothing/evidence", headers=tenant.admin_headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    other = bootstrap_tenant(session_factory)
    foreign = client.get(f"{API}/releases/{story.release_id}", headers=other.admin_headers)
    assert foreign.status_code == 404


def test_the_release_story_from_the_registry(
    client: TestClient, tenant: TenantCtx, story: Released
) -> None:
    shown = client.get(f"{API}/releases/{story.release_id}", headers=tenant.admin_headers)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["release"]["version_id"] == story.version_id
    assert [d["allowed"] for d in body["decisions"] if d["checkpoint"] == "promote"] == [
        False,
        True,
    ]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document, as a path of keys and indices."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            found += _paths(item, (*prefix, index))
    return found


def test_a_signed_statement_of_any_shape_gets_an_answer_never_a_crash(
    client: TestClient, tenant: TenantCtx, story: Released
) -> None:
    """Whoever holds the key may sign nonsense: the verifier answers, it does not fall over."""
    pem = public_pem(client, tenant)
    original = statement_of(evidence(client, tenant, story.release_id))
    places = [p for p in _paths(original) if p and p[-1] not in ("generated_at", "generator")]
    odd_values: list[Any] = [None, 0, -1, "", "x", [], {}, True, 1.5, [None], {"a": None}]
    for n, path in enumerate(places[:: max(len(places) // 150, 1)]):
        statement = json.loads(json.dumps(original))
        holder = statement
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = odd_values[n % len(odd_values)]
        report = verify_envelope(_resign(client, statement), pem)  # must not raise
        assert report.ok == (not report.failures)
