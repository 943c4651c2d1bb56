"""SDK methods for releases and their signed evidence bundles."""

from __future__ import annotations

from typing import Any

from trustplane.client._base import BaseClient, segment
from trustplane.client.errors import UnexpectedResponse
from trustplane.client.evidence_models import ReleaseRead, ReleaseStory
from trustplane.client.models import Page


class EvidenceMethods(BaseClient):
    def list_releases(
        self,
        *,
        model: str | None = None,
        environment: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[ReleaseRead]:
        """Releases, oldest first; ``model`` is a name or id, ``environment`` a name."""
        params = {"model": model, "environment": environment, "cursor": cursor, "limit": limit}
        return Page[ReleaseRead].from_api(self.request("GET", "/releases", params=params))

    def get_release(self, release_id: str) -> ReleaseStory:
        return self._get(ReleaseStory, f"/releases/{segment(release_id)}")

    def release_evidence(self, release_id: str) -> dict[str, Any]:
        """The release's DSSE envelope (verify it offline with ``trustplane evidence verify``)."""
        envelope = self.request("GET", f"/releases/{segment(release_id)}/evidence")
        if not isinstance(envelope, dict):
            raise UnexpectedResponse(200, "the evidence bundle is not a JSON object")
        return envelope

    def evidence_public_key(self) -> str:
        """The PEM public key that verifies evidence bundles and checkpoints."""
        return self.get_text("/evidence/public-key", "text/plain")
