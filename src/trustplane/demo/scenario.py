"""The whole story, step by step, through the SDK over HTTP.

:func:`run` needs a server and a token that may create tenants (a platform admin's), or the
admin token of an ``acme-bank`` tenant just bootstrapped on that server. It returns the
summary (what was denied, what was released, the tokens it issued) and writes it, without
its secrets, to ``summary.json`` in the demo folder beside the files it made.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trustplane.client import NotFound, TrustplaneClient
from trustplane.demo import DemoError, cast, catalogue, stories
from trustplane.demo.cast import ACME, ADMIN, DEPLOYER, MEMBERS, NORTHWIND, STEWARD, Crew
from trustplane.demo.evidence_check import export_and_verify
from trustplane.demo.report import Reporter

SUMMARY_FILE = "summary.json"
SECRETS = ("token", "tokens")


def run(
    url: str,
    platform_token: str,
    folder: Path,
    report: Reporter,
    *,
    admin_token: str | None = None,
) -> dict[str, Any]:
    """Seed the story on the server at ``url``; ``admin_token`` if acme-bank exists already."""
    folder.mkdir(parents=True, exist_ok=True)
    with cast.crew(url) as crew:
        crew.join("platform", platform_token)
        if admin_token is None:
            admin_token = _new_tenant(crew["platform"], ACME)["token"]
        crew.join(ADMIN, admin_token)
        _enrol(crew, report)
        cat = catalogue.build(crew, folder, report)
        credit = stories.governed_release(crew, cat, folder, report)
        evidence = export_and_verify(crew, credit["released"], folder, report)
        automatic = stories.automatic_release(crew, cat, folder, report)
        flagged = _flag(crew, cat, report)
        isolation = _isolation(crew, credit["released"]["version_id"], report)
        checkpoint = crew[ADMIN].create_checkpoint()
        report.step("Audit: every step above, allowed or denied, is an event in the ledger")
        report.line(f"signed checkpoint: {checkpoint.size} events, root {checkpoint.root_hash}")
        summary: dict[str, Any] = {
            "seeded": True,
            "tenant": ACME,
            "token": admin_token,
            "tokens": {m.name: crew.tokens[m.name] for m in MEMBERS},
            "principals": _principals(crew),
            "datasets": _datasets(cat),
            **credit,
            "evidence": evidence,
            "automatic": automatic,
            "flagged": flagged,
            "isolation": isolation,
            "checkpoint": {"size": checkpoint.size, "root_hash": checkpoint.root_hash},
            "folder": str(folder),
            "files": _files(folder),
        }
    save(summary, folder)
    return summary


def save(summary: dict[str, Any], folder: Path) -> None:
    """``summary.json`` without tokens: what a script needs to find what the demo made."""
    public = {k: v for k, v in summary.items() if k not in SECRETS}
    isolation = public.get("isolation")
    if isinstance(isolation, dict):
        public["isolation"] = {k: v for k, v in isolation.items() if k not in SECRETS}
    path = folder / SUMMARY_FILE
    path.write_text(json.dumps(public, indent=2) + "\n", encoding="utf-8")


def _new_tenant(platform: TrustplaneClient, name: str) -> dict[str, str]:
    """Create a tenant over the API (platform admins); refuse one that exists."""
    existing = {t.name for t in platform.paginate(platform.list_tenants)}
    if name in existing:
        raise DemoError(
            f"tenant '{name}' already exists on the server; the demo seeds a tenant once"
            " (use an empty database to seed again)"
        )
    created = platform.create_tenant(name, display_name=name.replace("-", " ").title())
    return {"id": created.tenant.id, "token": created.token.token}


def _enrol(crew: Crew, report: Reporter) -> None:
    report.step(f"Tenant {ACME}: its admin enrols people and machines, each with its own roles")
    cast.enrol(crew[ADMIN], crew)
    for member in MEMBERS:
        roles = ", ".join(f"{r} ({env})" if env else r for r, env in member.roles)
        kind = "service account" if member.kind == "service_account" else "user"
        report.line(f"{member.name:<12} {kind:<15} {roles}")


def _principals(crew: Crew) -> list[dict[str, Any]]:
    return [
        {
            "name": m.name,
            "id": crew.ids.get(m.name),
            "kind": m.kind,
            "job": m.job,
            "roles": [{"role": r, "environment": env} for r, env in m.roles],
        }
        for m in MEMBERS
    ]


def _datasets(cat: catalogue.Catalogue) -> list[dict[str, Any]]:
    return [
        {
            "name": d.name,
            "version_id": d.version_id,
            "digest": d.file.digest,
            "file": str(d.file.path),
            "rows": d.file.rows,
        }
        for d in (cat.applications, cat.signals, cat.cash)
    ]


def _flag(crew: Crew, cat: catalogue.Catalogue, report: Reporter) -> dict[str, Any]:
    """After the release, the second dataset must go: who is affected, what policy says now."""
    signals = cat.signals
    report.step(f"After the release: {STEWARD} flags {signals.name} for removal")
    reason = "provider withdrew consent for part of the data (erasure request ER-2291)"
    steward = crew[STEWARD]
    steward.flag_dataset_version(signals.version_id, reason)
    affected = list(steward.iter_flagged_dataset_users(dataset=signals.version_id))
    for item in affected:
        where = ", ".join(item.production_environments) or "no environment"
        report.line(
            f"affected: {item.model_name}@{item.version} ({item.state}, serving in {where})"
        )
    again = crew[DEPLOYER].evaluate_policy(stories.CREDIT, 1, stories.TARGET)
    rules = sorted({v.id for v in again.violations})
    report.line(f"promoting {stories.CREDIT}@1 to {stories.TARGET} now: {', '.join(rules)}")
    return {
        "dataset": signals.name,
        "version_id": signals.version_id,
        "node": signals.node,
        "reason": reason,
        "affected": [
            {
                "model": item.model_name,
                "version": item.version,
                "state": item.state,
                "production": item.production_environments,
            }
            for item in affected
        ],
        "policy_now": rules,
    }


def _isolation(crew: Crew, acme_version_id: str, report: Reporter) -> dict[str, Any]:
    """A second tenant with its own admin and model, invisible to acme-bank (and back)."""
    report.step(f"Isolation: a second tenant, {NORTHWIND}, with its own admin and model")
    tenant = _new_tenant(crew["platform"], NORTHWIND)
    crew.join("northwind-admin", tenant["token"])
    nw_admin = crew["northwind-admin"]
    ci = nw_admin.create_service_account("nw-ci", description="CI job that trains")
    nw_admin.grant(ci.id, "trainer", "demo: CI job that trains")
    crew.join("nw-ci", nw_admin.create_token(cast.ISSUE_LABEL, principal_id=ci.id).token)
    model = crew["nw-ci"].register_model(
        "claims-triage",
        owner="claims",
        intended_use="route motor claims to a handler",
        risk_tier="medium",
    )
    report.line(f"{NORTHWIND} registers claims-triage ({model.id})")
    status = _status(lambda: crew[ADMIN].get_model(model.id))
    back = _status(lambda: crew["nw-ci"].get_model_version(acme_version_id))
    report.line(f"{ACME}'s admin reads {model.id}: HTTP {status}")
    report.line(f"{NORTHWIND} reads {stories.CREDIT}@1 ({acme_version_id}): HTTP {back}")
    if status != 404 or back != 404:
        raise DemoError("tenant isolation did not hold: a cross-tenant read did not answer 404")
    return {
        "tenant": NORTHWIND,
        "token": tenant["token"],
        "model": model.name,
        "model_id": model.id,
        "cross_tenant_status": status,
        "reverse_status": back,
    }


def _status(call: Callable[[], object]) -> int:
    """The HTTP status of a read expected to fail with 404 (200 if it succeeds)."""
    try:
        call()
    except NotFound as exc:
        return exc.status
    return 200


def _files(folder: Path) -> dict[str, str]:
    found = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != SUMMARY_FILE)
    return {p.relative_to(folder).as_posix(): str(p) for p in found}
