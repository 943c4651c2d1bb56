"""SDK methods for the ledger: signed checkpoints, inclusion and consistency proofs, and the
public key that verifies checkpoints.

The SDK returns what the server said; it does not verify it (that needs the Merkle and note
code, which the ``trustplane audit proof`` commands use). Hashes are standard base64.
"""

from __future__ import annotations

from collections.abc import Iterator

from trustplane.client._base import BaseClient
from trustplane.client.errors import UnexpectedResponse
from trustplane.client.models import CheckpointRead, ConsistencyProof, InclusionProof, Page


class LedgerMethods(BaseClient):
    def audit_checkpoint(self) -> CheckpointRead:
        """The latest signed checkpoint (the server signs one if the ledger has none yet)."""
        return self._get(CheckpointRead, "/audit/checkpoint")

    def create_checkpoint(self, *, idempotency_key: str | None = None) -> CheckpointRead:
        """Sign the current tree head now (needs ``audit.checkpoint``)."""
        return self._post(CheckpointRead, "/audit/checkpoints", {}, idempotency_key)

    def list_checkpoints(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[CheckpointRead]:
        """One page of stored checkpoints, smallest tree size first."""
        return self._get(Page[CheckpointRead], "/audit/checkpoints", cursor=cursor, limit=limit)

    def iter_checkpoints(self) -> Iterator[CheckpointRead]:
        return self.paginate(self.list_checkpoints)

    def inclusion_proof(
        self,
        *,
        index: int | None = None,
        event_id: str | None = None,
        tree_size: int | None = None,
    ) -> InclusionProof:
        """The audit path of one event (by 0-based index or by id) in the tree of
        ``tree_size`` leaves (the current size if None)."""
        return self._get(
            InclusionProof,
            "/audit/proofs/inclusion",
            index=index,
            event_id=event_id,
            tree_size=tree_size,
        )

    def consistency_proof(self, first: int, second: int) -> ConsistencyProof:
        """The proof that the tree of ``first`` leaves is a prefix of the tree of ``second``."""
        return self._get(ConsistencyProof, "/audit/proofs/consistency", first=first, second=second)

    def public_key(self) -> str:
        """The C2SP verifier key string (``<name>+<key id>+<base64 key>``) of the ledger."""
        text = self.get_text("/audit/public-key", "text/plain")
        key = text.strip()
        if not key or any(char.isspace() for char in key):
            snippet = " ".join(text.split())[:120]
            raise UnexpectedResponse(200, snippet or "empty body")
        return key
