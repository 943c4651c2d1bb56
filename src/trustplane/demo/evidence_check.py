"""The release's evidence: the signed bundle exported, verified offline, and its model card.

The risk officer exports the bundle (a DSSE envelope over an in-toto statement) and the
server's evidence key, and checks both with the offline verifier, as an outside auditor
would: no server, no database, just the files and the artifact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trustplane.demo import DemoError
from trustplane.demo.cast import RISK, Crew
from trustplane.demo.report import Reporter
from trustplane.evidence.verify import verify_envelope


def export_and_verify(
    crew: Crew, released: dict[str, Any], folder: Path, report: Reporter
) -> dict[str, Any]:
    """Write the bundle, the key and the model card under ``folder``; verify the bundle."""
    report.step(f"Evidence: {RISK} (risk officer) exports the release's bundle and verifies it")
    officer = crew[RISK]
    release = str(released["release"])
    envelope = officer.release_evidence(release)
    public_key = officer.evidence_public_key()
    out = folder / "evidence"
    out.mkdir(parents=True, exist_ok=True)
    bundle_path = out / f"{release}.dsse.json"
    key_path = out / "evidence-public.pem"
    bundle_path.write_text(json.dumps(envelope, indent=2) + "\n", encoding="utf-8")
    key_path.write_text(public_key, encoding="utf-8")
    try:
        result = verify_envelope(
            bundle_path.read_bytes(), key_path.read_bytes(), Path(released["artifact"])
        )
    except ValueError as exc:  # the server's key is unusable: the bundle cannot be checked
        raise DemoError(f"the evidence key from the server is unusable: {exc}") from None
    verdict = "verified" if result.ok else "FAILED"
    report.line(f"{bundle_path.name}: {verdict} offline ({len(result.checks)} checks passed)")
    for failure in result.failures:
        report.line(f"- {failure}")
    card_path = out / f"{released['model']}-v{released['version']}-card.md"
    card_path.write_text(officer.model_card(released["version_id"]), encoding="utf-8")
    report.line(f"model card: {card_path.name}")
    return {
        "bundle": str(bundle_path),
        "public_key": str(key_path),
        "model_card": str(card_path),
        "verified": result.ok,
        "checks": list(result.checks),
        "failures": list(result.failures),
    }
