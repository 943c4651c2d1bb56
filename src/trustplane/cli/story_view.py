"""Printing a release's story for people: from the registry (``releases show``) or rebuilt
from a ledger export (``reconstruct``), which adds the timeline."""

from __future__ import annotations

from typing import Any

from trustplane.cli.output import console, table


def show_story(story: dict[str, Any]) -> None:
    _release(story["release"], story["model"])
    _training(story["training"])
    _checks(story["checks"])
    table(
        "Policy decisions",
        ["at", "checkpoint", "env", "result", "violations", "waived", "bundle", "id"],
        [
            (
                d["at"],
                d["checkpoint"],
                d["environment"] or "-",
                "allowed" if d["allowed"] else "denied",
                ", ".join(d["violations"]) or "-",
                ", ".join(d["waived"]) or "-",
                str(d["bundle_digest"])[:19],
                d["id"],
            )
            for d in story["decisions"]
        ],
    )
    table(
        "Approvals",
        ["at", "who", "role", "decision", "env", "digest"],
        [
            (
                a["at"],
                a["principal"],
                a["role"],
                a["decision"],
                a["environment"] or "all",
                str(a["artifact_digest"])[:19],
            )
            for a in story["approvals"]
        ],
    )
    table(
        "Waivers",
        ["id", "rules", "status", "expires", "compensating control"],
        [
            (
                w["id"],
                ", ".join(w["rule_ids"]),
                w["status"],
                w["expires_at"],
                w["compensating_control"],
            )
            for w in story["waivers"]
        ],
    )
    after = story["after"]
    if after:
        table(
            "After the release",
            ["at", "action", "env", "by", "why"],
            [
                (a["at"], a["action"], a["environment"] or "-", a["actor_id"], a["intent"])
                for a in after
            ],
        )
    else:
        console.print("After the release: no suspension, rollback or retirement recorded.")
    if "timeline" in story:
        table(
            "Timeline (ledger order)",
            ["seq", "at", "who", "action", "outcome", "target", "note"],
            [
                (
                    m["seq"],
                    m["at"],
                    m["actor"],
                    m["action"],
                    m["outcome"],
                    m["target"],
                    m["note"] or "",
                )
                for m in story["timeline"]
            ],
        )


def _release(release: dict[str, Any], model: dict[str, Any]) -> None:
    console.print(
        f"[bold]Release {release['id']}[/]: {release['model']} version {release['version']} "
        f"({release['artifact_digest']}) promoted to {release['environment']} "
        f"({release['region'] or 'no region'}) by {release['requester']['name']} at "
        f"{release['at']}",
        highlight=False,
    )
    console.print(
        f"  intent: {release['intent']}; category: {release['category'] or '-'}; "
        f"model owner {model['owner'] or '-'}, risk tier {model['risk_tier'] or '-'}, "
        f"intended use: {model['intended_use'] or '-'}",
        highlight=False,
        markup=False,
    )


def _training(training: dict[str, Any]) -> None:
    if training["run_id"] is None:
        console.print("Training: no run recorded.")
        return
    console.print(
        f"Training: run {training['run_id']} by {training['actor']}, code "
        f"{training['code_repo'] or '-'} at {training['commit'] or '-'}, environment "
        f"{training['env_fingerprint'] or '-'}, parameters {training['parameters'] or {}}",
        highlight=False,
        markup=False,
    )
    table(
        "Data",
        ["dataset version", "name", "version", "digest", "sensitivity", "approval", "flagged"],
        [
            (
                d["id"],
                d["name"],
                d["version"],
                d["digest"],
                d["sensitivity"],
                d["approval_status"],
                "yes" if d["flagged_for_removal"] else "no",
            )
            for d in training["datasets"]
        ],
    )
    if training["features"]:
        table(
            "Features",
            ["feature version", "name", "version", "review", "deprecated"],
            [
                (
                    f["id"],
                    f["name"],
                    f["version"],
                    f["review_status"],
                    "yes" if f["deprecated"] else "no",
                )
                for f in training["features"]
            ],
        )


def _checks(checks: dict[str, Any]) -> None:
    metrics = checks.get("metrics") or {}
    console.print(
        "Metrics: " + (", ".join(f"{k}={v}" for k, v in metrics.items()) or "none recorded"),
        highlight=False,
        markup=False,
    )
    table(
        "Evaluations",
        ["name", "metric", "group", "value", "threshold", "passed"],
        [
            (
                e.get("name"),
                e.get("metric"),
                e.get("group"),
                e.get("value"),
                e.get("threshold"),
                e.get("passed"),
            )
            for e in checks.get("evaluations") or []
        ],
    )
