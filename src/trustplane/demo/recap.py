"""Seeding twice: the story is not played again; its outcome is read back from the server.

A database already holding the demo keeps it. The command issues fresh tokens (the earlier
ones were shown once only) and rebuilds the summary from what the server says: the denied
and the allowed promotion of credit-default, the automatic release. The other facts come
from the ``summary.json`` the first seed wrote, when it is there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trustplane.client import NotFound, TrustplaneClient
from trustplane.demo import DemoError, cast, stories
from trustplane.demo.cast import ACME, ADMIN, MEMBERS
from trustplane.demo.report import Reporter
from trustplane.demo.scenario import SUMMARY_FILE


def recap(url: str, admin_token: str, folder: Path, report: Reporter) -> dict[str, Any]:
    """The summary of the demo already seeded on the server, with fresh tokens."""
    with cast.crew(url) as crew:
        crew.join(ADMIN, admin_token)
        admin = crew[ADMIN]
        credit = _released(admin, stories.CREDIT)
        automatic = _released(admin, stories.CASH)
        denied = _denied(admin, credit["version_id"])
        cast.reissue(admin, crew)
        report.step(f"Tenant {ACME} already holds the demo: nothing seeded, fresh tokens issued")
        report.line(f"{stories.CREDIT}@1 in production (release {credit['release']})")
        report.line(f"{stories.CASH}@1 in production (release {automatic['release']})")
        previous = _previous(folder)
        fresh = {
            "seeded": False,
            "note": "already seeded: nothing changed; fresh tokens issued",
            "tenant": ACME,
            "token": admin_token,
            "tokens": {m.name: crew.tokens[m.name] for m in MEMBERS if m.name in crew.tokens},
        }
        summary = {
            **fresh,
            **previous,
            **fresh,
            "denied": {**previous.get("denied", {}), **denied},
            "released": {**previous.get("released", {}), **credit},
            "automatic": {**previous.get("automatic", {}), **automatic},
            "folder": str(folder),
        }
    return summary


def _incomplete(detail: str) -> DemoError:
    return DemoError(
        f"tenant '{ACME}' exists but does not hold a complete demo ({detail}); seed an empty"
        " database (a new TRUSTPLANE_HOME, or a fresh TRUSTPLANE_DATABASE_URL)"
    )


def _released(admin: TrustplaneClient, model: str) -> dict[str, Any]:
    try:
        version = admin.model_version(model, 1)
    except NotFound:
        raise _incomplete(f"no model {model}") from None
    if stories.TARGET not in version.production_in:
        raise _incomplete(f"{model}@1 is not in production in {stories.TARGET}")
    return {
        "model": model,
        "version": version.version,
        "version_id": version.id,
        "target": stories.TARGET,
        "release": stories.release_of(admin, model, version.id),
        "artifact_digest": version.artifact_digest,
    }


def _denied(admin: TrustplaneClient, version_id: str) -> dict[str, Any]:
    page = admin.list_decisions(model_version_id=version_id, checkpoint="promote", allowed=False)
    if not page.items:
        raise _incomplete(f"no denied promotion of {stories.CREDIT}@1")
    decision = page.items[0]
    return {
        "model": stories.CREDIT,
        "version": 1,
        "target": decision.environment or stories.TARGET,
        "decision": decision.id,
        "violations": [
            {"id": v.id, "message": v.message, "owner_role": v.owner_role}
            for v in decision.violations
        ],
        "missing_signoffs": [
            {"role": s.role, "message": s.message} for s in decision.missing_signoffs
        ],
    }


def _previous(folder: Path) -> dict[str, Any]:
    """What the first seed wrote, if it was written here (and is readable)."""
    try:
        loaded = json.loads((folder / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) and loaded.get("tenant") == ACME else {}
