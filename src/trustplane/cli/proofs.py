"""Checking what the server says about its ledger, before the CLI reports it as true.

The SDK only fetches; these checks use the pure Merkle and signed-note code. A checkpoint must
carry a valid signature of the ledger's key for the caller's tenant; a proof must verify by RFC
9162 and its root must be the signed root, or be linked to it by a verified consistency proof.
Any failure raises ``VerificationFailed``, which the commands turn into exit code 1.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustplane.audit import merkle, notes
from trustplane.client import TrustplaneClient
from trustplane.client.models import CheckpointRead, ConsistencyProof, InclusionProof


class VerificationFailed(Exception):
    """What the server sent does not verify: do not trust it."""


@dataclass(frozen=True)
class Signed:
    """A checkpoint whose signature verified: ``body`` is what the signature covers."""

    api: CheckpointRead
    body: notes.Checkpoint
    verifier: notes.Verifier
    tenant_id: str


def load_verifier(tp: TrustplaneClient, key_file: Path | None) -> notes.Verifier:
    """The ledger's verifier key: pinned from ``key_file``, else as the server publishes it."""
    try:
        text = key_file.read_text(encoding="utf-8") if key_file else tp.public_key()
        return notes.Verifier.from_key_string(text.strip())
    except OSError as exc:
        raise VerificationFailed(f"cannot read key file {key_file}: {exc.strerror}") from None
    except notes.NoteError as exc:
        raise VerificationFailed(
            f"the ledger's public key is not a valid verifier key: {exc}"
        ) from None


def expected_origin(verifier: notes.Verifier, tenant_id: str) -> str:
    return f"{verifier.name}/ledger/{tenant_id}"


def check_checkpoint(cp: CheckpointRead, verifier: notes.Verifier, tenant_id: str) -> Signed:
    """Verify the note's signature and origin, and that the JSON fields restate the note."""
    try:
        body = notes.verify_checkpoint(cp.note, verifier, expected_origin(verifier, tenant_id))
    except notes.NoteError as exc:
        raise VerificationFailed(f"checkpoint does not verify: {exc}") from None
    if (cp.origin, cp.size, cp.root_hash) != (body.origin, body.size, _b64(body.root_hash)):
        raise VerificationFailed("checkpoint fields differ from its signed note")
    return Signed(cp, body, verifier, tenant_id)


def latest_signed(tp: TrustplaneClient, verifier: notes.Verifier, tenant_id: str) -> Signed:
    return check_checkpoint(tp.audit_checkpoint(), verifier, tenant_id)


def link_to_checkpoint(tp: TrustplaneClient, size: int, root: bytes, signed: Signed) -> None:
    """Check that ``root`` is the root the log had at ``size``, as the signed head vouches."""
    head = signed.body
    if size > head.size:
        raise VerificationFailed(
            f"tree size {size} is beyond the latest signed checkpoint (size {head.size}); "
            "sign one with 'trustplane audit checkpoint --create'"
        )
    if size == head.size:
        if root != head.root_hash:
            raise VerificationFailed(f"root at size {size} differs from the signed root")
        return
    if size == 0:
        if root != merkle.EMPTY_ROOT:
            raise VerificationFailed("root of the empty tree is not the RFC 9162 empty root")
        return
    link = tp.consistency_proof(size, head.size)
    if (link.first, link.second) != (size, head.size):
        raise VerificationFailed(f"asked for sizes {size}..{head.size}, got another proof")
    try:
        merkle.verify_consistency(size, head.size, _hashes(link.proof), root, head.root_hash)
    except merkle.ProofError as exc:
        raise VerificationFailed(
            f"size {size} is not consistent with the signed checkpoint: {exc}"
        ) from None


def check_inclusion(
    tp: TrustplaneClient,
    proof: InclusionProof,
    signed: Signed,
    *,
    index: int | None,
    event_id: str | None,
    tenant_id: str,
) -> None:
    """The leaf data is the event asked for, hashes to the leaf hash, and its audit path leads
    to a root the signed checkpoint vouches for."""
    if index is not None and proof.index != index:
        raise VerificationFailed(f"asked for leaf {index}, got a proof of leaf {proof.index}")
    if event_id is not None and proof.event_id != event_id:
        raise VerificationFailed(f"asked for event {event_id}, got {proof.event_id}")
    leaf = proof.leaf.encode("utf-8")
    _check_leaf(leaf, proof, tenant_id)
    leaf_hash = merkle.leaf_hash(leaf)
    if _hash(proof.leaf_hash) != leaf_hash:
        raise VerificationFailed(f"leaf hash of leaf {proof.index} does not match its data")
    root = _hash(proof.root_hash)
    try:
        merkle.verify_inclusion(
            leaf_hash, proof.index, proof.tree_size, _hashes(proof.audit_path), root
        )
    except merkle.ProofError as exc:
        raise VerificationFailed(f"inclusion proof does not verify: {exc}") from None
    link_to_checkpoint(tp, proof.tree_size, root, signed)


def check_consistency(tp: TrustplaneClient, proof: ConsistencyProof, signed: Signed) -> None:
    """The proof verifies between its two roots, and the second is vouched for by the head."""
    first_root, second_root = _hash(proof.first_root), _hash(proof.second_root)
    try:
        merkle.verify_consistency(
            proof.first, proof.second, _hashes(proof.proof), first_root, second_root
        )
    except merkle.ProofError as exc:
        raise VerificationFailed(f"consistency proof does not verify: {exc}") from None
    link_to_checkpoint(tp, proof.second, second_root, signed)


def _check_leaf(leaf: bytes, proof: InclusionProof, tenant_id: str) -> None:
    try:
        event: Any = json.loads(leaf)
    except ValueError:
        raise VerificationFailed(f"leaf {proof.index} is not JSON") from None
    if not isinstance(event, dict):
        raise VerificationFailed(f"leaf {proof.index} is not an event")
    seen = (event.get("id"), event.get("seq"), event.get("tenant"))
    if seen != (proof.event_id, proof.index, tenant_id):
        raise VerificationFailed(f"leaf {proof.index} is not event {proof.event_id} of this tenant")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _hash(value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationFailed(f"{value!r} is not a base64 hash") from None
    if len(raw) != merkle.HASH_SIZE:
        raise VerificationFailed(f"{value!r} is not a SHA-256 hash")
    return raw


def _hashes(values: list[str]) -> list[bytes]:
    return [_hash(value) for value in values]


# Witness files: one JSON object per line, {"origin", "size", "note"}, appended, never edited.


def witness_record(signed: Signed) -> dict[str, Any]:
    return {"origin": signed.body.origin, "size": signed.body.size, "note": signed.api.note}


def last_witnessed(path: Path, origin: str) -> tuple[int, dict[str, Any]] | None:
    """The last record of ``origin`` in the witness file (line number, record), if any."""
    if not path.exists():
        return None
    found = None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise VerificationFailed(f"{path} is not UTF-8 text") from None
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise VerificationFailed(f"{path} line {number} is not JSON") from None
        if not isinstance(record, dict) or not isinstance(record.get("note"), str):
            raise VerificationFailed(f"{path} line {number} is not a witness record")
        if record.get("origin") == origin:
            found = (number, record)
    return found


def check_against_witnessed(
    tp: TrustplaneClient, signed: Signed, path: Path, number: int, record: dict[str, Any]
) -> bool:
    """The new head extends the last one witnessed; False if it is that very checkpoint."""
    where = f"{path} line {number}"
    try:
        old = notes.verify_checkpoint(record["note"], signed.verifier, signed.body.origin)
    except notes.NoteError as exc:
        raise VerificationFailed(
            f"witnessed checkpoint at {where} does not verify: {exc}"
        ) from None
    if old.size > signed.body.size:
        raise VerificationFailed(
            f"the ledger shrank: size {signed.body.size} now, {old.size} witnessed at {where}"
        )
    try:
        link_to_checkpoint(tp, old.size, old.root_hash, signed)
    except VerificationFailed as exc:
        raise VerificationFailed(f"history rewritten since {where}: {exc}") from None
    return bool(record["note"] != signed.api.note)


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one line and flush it to disk."""
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
