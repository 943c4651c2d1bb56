"""Audit shapes on the wire: events, checkpoints and proofs."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from trustplane.audit.ledger import ConsistencyProof, InclusionProof
from trustplane.audit.models import LedgerCheckpoint


class EventActor(BaseModel):
    id: str
    name: str
    kind: str
    auth: str


class EventTarget(BaseModel):
    kind: str
    id: str
    name: str | None = None


class EventOrigin(BaseModel):
    ip: str | None = None
    user_agent: str | None = None


class AuditEventRead(BaseModel):
    """An event exactly as recorded in its ledger leaf."""

    model_config = ConfigDict(frozen=True)

    v: int
    id: str
    tenant: str
    seq: int
    time: datetime
    actor: EventActor
    environment: str | None
    action: str
    target: EventTarget
    digests: list[str]
    outcome: str
    reason: str | None
    correlation_id: str
    intent: str | None
    origin: EventOrigin
    payload: dict[str, Any]


class AuditEventFilter(BaseModel):
    """Filters for listing events; all optional, combined with AND."""

    model_config = ConfigDict(extra="forbid")

    actor: str | None = None
    action: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    correlation_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


# Checkpoints and proofs. Hashes are standard base64 (RFC 4648 section 4, with padding), as in
# the checkpoint note itself; sizes and indices follow RFC 9162 (leaves, 0-based).


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class CheckpointRead(BaseModel):
    """A signed tree head: ``note`` is the C2SP signed note, the other fields restate its text."""

    origin: str
    size: int
    root_hash: str
    note: str
    created_at: datetime

    @classmethod
    def of(cls, checkpoint: LedgerCheckpoint) -> CheckpointRead:
        return cls(
            origin=checkpoint.note.split("\n", 1)[0],
            size=checkpoint.size,
            root_hash=b64(checkpoint.root_hash),
            note=checkpoint.note,
            created_at=checkpoint.created_at,
        )


class InclusionProofRead(BaseModel):
    """RFC 9162 inclusion proof of one event; ``leaf`` is its exact leaf data (UTF-8 JSON)."""

    event_id: str
    index: int
    tree_size: int
    leaf: str
    leaf_hash: str
    audit_path: list[str]
    root_hash: str

    @classmethod
    def of(cls, proof: InclusionProof) -> InclusionProofRead:
        return cls(
            event_id=proof.event_id,
            index=proof.index,
            tree_size=proof.tree_size,
            leaf=proof.leaf.decode("utf-8"),
            leaf_hash=b64(proof.leaf_hash),
            audit_path=[b64(h) for h in proof.audit_path],
            root_hash=b64(proof.root),
        )


class ConsistencyProofRead(BaseModel):
    """RFC 9162 consistency proof: the tree of ``first`` leaves is a prefix of ``second``'s."""

    first: int
    second: int
    proof: list[str]
    first_root: str
    second_root: str

    @classmethod
    def of(cls, proof: ConsistencyProof) -> ConsistencyProofRead:
        return cls(
            first=proof.first,
            second=proof.second,
            proof=[b64(h) for h in proof.proof],
            first_root=b64(proof.first_root),
            second_root=b64(proof.second_root),
        )
