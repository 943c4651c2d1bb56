"""Offline verification of an evidence bundle: no server, no database (docs/evidence.md).

Checks, in order: the DSSE signature over PAE(payloadType, payload); the statement's type,
predicate type and subject; the artifact's digest (if given); the checkpoint's signature (by
the same key) and origin; every event's inclusion proof against the checkpoint's root; and the
bundle's internal consistency: the promotion, its decision and every approval name the
subject's digest, and each decision listed matches its ledger event and input digest.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from trustplane.audit import merkle
from trustplane.audit.canonical import canonical_json
from trustplane.audit.notes import NoteError, Verifier, verify_checkpoint
from trustplane.client.artifacts import ArtifactError, artifact_digest
from trustplane.evidence import dsse
from trustplane.evidence.formats import PREDICATE_TYPE, STATEMENT_TYPE


@dataclass
class EvidenceReport:
    """What held and what failed; ``ok`` only if nothing failed."""

    checks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    release: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    def expect(self, held: bool, check: str, failure: str) -> bool:
        (self.checks if held else self.failures).append(check if held else failure)
        return held


class _Stop(Exception):
    """A failure after which nothing further can be checked."""


def verify_envelope(
    envelope: bytes, public_key_pem: bytes | None = None, artifact: Path | None = None
) -> EvidenceReport:
    """Verify a bundle's bytes; the key is pinned with ``public_key_pem`` (else the key the
    bundle names is used, and a warning says so). A bad key file raises EnvelopeError."""
    pinned = dsse.load_public_pem(public_key_pem) if public_key_pem is not None else None
    report = EvidenceReport()
    try:
        statement = _open(envelope, pinned, report)
        predicate = _statement(statement, report)
        subject = "sha256:" + statement["subject"][0]["digest"]["sha256"]
        if artifact is not None:
            _artifact(artifact, subject, report)
        events = _ledger(predicate, pinned, report)
        _consistency(predicate, subject, events, report)
    except _Stop:
        pass
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        # a bundle is outside input: whatever shape it has, the answer is a failure, not a crash
        report.failures.append(f"the bundle is malformed ({type(exc).__name__}: {exc})")
    return report


def _open(envelope: bytes, pinned: Any, report: EvidenceReport) -> dict[str, Any]:
    try:
        document = orjson.loads(envelope)
    except orjson.JSONDecodeError as exc:
        report.failures.append(f"the bundle is not JSON: {exc}")
        raise _Stop from exc
    key = pinned or _named_key(document, report)
    try:
        opened = dsse.open_envelope(document, key)
    except dsse.EnvelopeError as exc:
        report.failures.append(f"DSSE signature: {exc}")
        raise _Stop from exc
    report.checks.append(f"DSSE signature verifies (key id {dsse.key_id(key)[:16]}...)")
    if not report.expect(
        opened.payload_type == dsse.IN_TOTO_PAYLOAD_TYPE,
        "payload type is in-toto",
        f"payload type is {opened.payload_type!r}, not {dsse.IN_TOTO_PAYLOAD_TYPE!r}",
    ):
        raise _Stop
    try:
        statement = orjson.loads(opened.payload)
    except orjson.JSONDecodeError as exc:
        report.failures.append("the signed payload is not JSON")
        raise _Stop from exc
    if not isinstance(statement, dict):
        report.failures.append("the signed payload is not a JSON object")
        raise _Stop
    return statement


def _named_key(document: Any, report: EvidenceReport) -> Any:
    """The key the bundle itself names: enough to detect damage, not to prove who signed."""
    try:
        payload = orjson.loads(base64.b64decode(document["payload"], validate=True))
        named = Verifier.from_key_string(payload["predicate"]["ledger"]["verifier_key"])
    except (KeyError, TypeError, ValueError, binascii.Error, orjson.JSONDecodeError) as exc:
        report.failures.append("the bundle names no usable key; pass the public key file")
        raise _Stop from exc
    report.warnings.append(
        "no key was given: checked against the key the bundle names; pin the publisher's "
        "key with --key to know who signed it"
    )
    return dsse.public_key_of(named)


def _statement(statement: dict[str, Any], report: EvidenceReport) -> dict[str, Any]:
    held = (
        statement.get("_type") == STATEMENT_TYPE
        and statement.get("predicateType") == PREDICATE_TYPE
        and isinstance(statement.get("predicate"), dict)
    )
    if not report.expect(
        held,
        "in-toto Statement v1 with the release predicate",
        "not a Trustplane release statement",
    ):
        raise _Stop
    subjects = statement.get("subject")
    try:
        digest = subjects[0]["digest"]["sha256"]  # type: ignore[index]
    except (TypeError, KeyError, IndexError) as exc:
        report.failures.append("the statement has no sha256 subject")
        raise _Stop from exc
    predicate: dict[str, Any] = statement["predicate"]
    report.release = dict(predicate.get("promotion") or {})
    report.expect(
        report.release.get("artifact_digest") == f"sha256:{digest}",
        "the subject is the released artifact",
        "the subject digest is not the released version's artifact digest",
    )
    return predicate


def _artifact(path: Path, subject: str, report: EvidenceReport) -> None:
    try:
        actual = artifact_digest(path)
    except (ArtifactError, OSError) as exc:
        report.failures.append(f"artifact {path}: {exc}")
        return
    report.expect(
        actual == subject,
        f"artifact {path} has the subject's digest",
        f"artifact {path} has digest {actual}, the bundle is for {subject}",
    )


def _ledger(
    predicate: dict[str, Any], pinned: Any, report: EvidenceReport
) -> dict[int, dict[str, Any]]:
    """Check the checkpoint and every inclusion proof; return the proven events by index."""
    ledger = predicate.get("ledger") or {}
    try:
        named = Verifier.from_key_string(ledger["verifier_key"])
        size, root = int(ledger["tree_size"]), base64.b64decode(ledger["root_hash"])
        note, tenant = str(ledger["checkpoint"]), str(predicate["tenant"])
    except (KeyError, TypeError, ValueError, NoteError, binascii.Error) as exc:
        report.failures.append(f"the ledger section is malformed: {exc}")
        raise _Stop from exc
    key = named.public_key if pinned is None else dsse.raw_public(pinned)
    try:
        checkpoint = verify_checkpoint(note, Verifier(named.name, key))
    except NoteError as exc:
        report.failures.append(f"checkpoint: {exc} (it is not signed by the bundle's key)")
        raise _Stop from exc
    report.checks.append(f"checkpoint signed by the same key ({checkpoint.origin}, size {size})")
    report.expect(
        checkpoint.size == size and checkpoint.root_hash == root,
        "the checkpoint states the tree size and root the proofs use",
        "the checkpoint's size or root differs from the bundle's",
    )
    report.expect(
        checkpoint.origin.endswith(f"/ledger/{tenant}"),
        "the checkpoint is the tenant's ledger",
        f"the checkpoint's origin {checkpoint.origin!r} is not tenant {tenant}'s ledger",
    )
    return _proofs(ledger.get("events") or [], size, checkpoint.root_hash, tenant, report)


def _proofs(
    entries: list[Any], size: int, root: bytes, tenant: str, report: EvidenceReport
) -> dict[int, dict[str, Any]]:
    proven: dict[int, dict[str, Any]] = {}
    for entry in entries:
        try:
            index, leaf = int(entry["index"]), str(entry["leaf"]).encode("utf-8")
            path = [base64.b64decode(h, validate=True) for h in entry["inclusion_proof"]]
            merkle.verify_inclusion(merkle.leaf_hash(leaf), index, size, path, root)
            event = orjson.loads(leaf)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            where = entry.get("index") if isinstance(entry, dict) else "?"
            report.failures.append(f"event at index {where}: {exc}")
            continue
        if event.get("seq") != index or event.get("tenant") != tenant:
            report.failures.append(f"event at index {index} is not leaf {index} of {tenant}")
            continue
        proven[index] = event
    report.expect(
        len(proven) == len(entries) and bool(entries),
        f"{len(proven)} events proven included in the checkpoint",
        f"{len(entries) - len(proven)} of {len(entries)} events are not proven",
    )
    return proven


def _consistency(
    predicate: dict[str, Any],
    subject: str,
    events: dict[int, dict[str, Any]],
    report: EvidenceReport,
) -> None:
    release = report.release
    promote = [
        e
        for e in events.values()
        if e.get("action") == "model.promote"
        and (e.get("payload") or {}).get("release_id") == release.get("id")
    ]
    report.expect(
        len(promote) == 1
        and promote[0]["digests"][:1] == [subject]
        and promote[0]["environment"] == release.get("environment")
        and promote[0]["target"]["id"] == release.get("version_id"),
        "the ledger records this promotion of this artifact",
        "no proven ledger event records the promotion as the bundle states it",
    )
    recorded = {
        (e.get("payload") or {}).get("decision_id"): e
        for e in events.values()
        if str(e.get("action", "")).startswith("policy.decision.")
    }
    for decision in predicate.get("decisions") or []:
        _decision(decision, recorded.get(decision.get("id")), subject, report)
    allowed = {d.get("id") for d in predicate.get("decisions") or [] if d.get("allowed")}
    report.expect(
        release.get("decision_id") in allowed,
        "the promotion's own policy decision allowed it",
        "the promotion's policy decision is missing or was a denial",
    )
    wrong = [
        a.get("principal")
        for a in predicate.get("approvals") or []
        if a.get("artifact_digest") != subject
    ]
    report.expect(
        not wrong,
        "every approval is bound to the subject's digest",
        f"approvals by {', '.join(map(str, wrong))} name another digest",
    )


def _decision(
    decision: dict[str, Any], event: dict[str, Any] | None, subject: str, report: EvidenceReport
) -> None:
    name = decision.get("id")
    if event is None:
        report.failures.append(f"decision {name} has no proven ledger event")
        return
    payload = event.get("payload") or {}
    facts = payload.get("input") or {}
    recomputed = "sha256:" + hashlib.sha256(canonical_json(facts)).hexdigest()
    same = all(
        payload.get(key) == decision.get(key)
        for key in ("bundle_digest", "input_digest", "allowed")
    )
    digest = (facts.get("version") or {}).get("artifact_digest")
    report.expect(
        same and recomputed == decision.get("input_digest") and digest == subject,
        f"decision {name} matches its ledger event, input and digest",
        f"decision {name} differs from its ledger event, its input or the subject's digest",
    )
