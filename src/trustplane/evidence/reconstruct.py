"""The tabletop exercise: rebuild a release's story from a ledger export alone.

The export (``trustplane audit export``: events.jsonl, checkpoint, checkpoints/, public.key)
is verified first; a story is only told from a ledger that verifies. No database, no server.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustplane.audit.verify import EVENTS, VerifyReport, verify_export
from trustplane.evidence.story import UnreadableStory, related, tell


@dataclass(frozen=True)
class Reconstruction:
    """The export's verification, and the story if it verified and holds the release."""

    verification: VerifyReport
    story: dict[str, Any] | None


def reconstruct(folder: Path, release_id: str, *, key: str | None = None) -> Reconstruction:
    """Verify ``folder``, then tell ``release_id``'s story from its events.

    Raises UnreadableExport for a folder that cannot be read and UnknownRelease when the
    verified ledger holds no such release.
    """
    report = verify_export(folder, key=key)
    if not report.ok:
        return Reconstruction(report, None)
    path = Path(folder) / EVENTS

    def lines() -> Iterator[bytes]:
        with path.open("rb") as handle:
            yield from handle

    try:
        return Reconstruction(report, tell(related(lines, release_id), release_id))
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        raise UnreadableStory(
            f"the export's events do not have the shape of Trustplane events ({exc!r})"
        ) from exc
