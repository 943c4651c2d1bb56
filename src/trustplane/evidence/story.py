"""The story of a release told from ledger events alone: no database, no server.

``related`` picks the events that concern one release out of a tenant's ledger (the events of
its version, its model, its run, the data and features it was trained on, its waivers) in a
few passes over the lines, parsing only lines that mention an id of interest. ``tell`` turns
them into the same shape :mod:`trustplane.evidence.releases` reads from the registry tables,
plus a timeline; docs/evidence.md describes both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

import orjson

from trustplane.audit.canonical import rfc3339

#: Transitions of a version that change what runs where, told after the release.
AFTER_ACTIONS = frozenset(
    {"promote", "deprecate", "retire", "suspend", "reinstate", "replaced", "reject"}
)

#: The fields of a dataset or feature version in a story, from either source.
DATASET_KEYS = (
    "id",
    "name",
    "version",
    "digest",
    "sensitivity",
    "region",
    "approval_status",
    "approved_by",
    "flagged_for_removal",
)
FEATURE_KEYS = ("id", "name", "version", "review_status", "deprecated")

Lines = Callable[[], Iterator[bytes]]


class UnknownRelease(LookupError):
    """No promotion with this release id is in the ledger."""


class UnreadableStory(ValueError):
    """The ledger verified, but its events do not have the shape Trustplane writes."""


def related(lines: Lines, release_id: str) -> list[dict[str, Any]]:
    """The events of ``release_id``'s story, in ledger order. ``lines`` re-reads the ledger."""
    promote = _promotion(lines, release_id)
    version_id = promote["target"]["id"]
    own = _matching(lines, version_id.encode(), lambda e: _of_version(e, version_id))
    ids = {promote["payload"].get("model_id")}
    for event in own:
        ids |= _ids_named_by(event)
    ids.discard(None)
    ids.discard(version_id)
    needles = [str(i).encode() for i in ids]
    others = _matching_any(lines, needles, lambda e: e["target"]["id"] in ids)
    merged = {e["seq"]: e for e in [*own, *others]}
    return [merged[seq] for seq in sorted(merged)]


def _promotion(lines: Lines, release_id: str) -> dict[str, Any]:
    needle = release_id.encode()
    for event in _matching(lines, needle, lambda e: e["action"] == "model.promote"):
        if event["payload"].get("release_id") == release_id and event["outcome"] == "allowed":
            return event
    raise UnknownRelease(f"release {release_id} is not in this ledger")


def _of_version(event: dict[str, Any], version_id: str) -> bool:
    if event["target"]["id"] == version_id:
        return True
    return bool(
        event["target"]["kind"] == "waiver"
        and event["payload"].get("model_version_id") == version_id
    )


def _ids_named_by(event: dict[str, Any]) -> set[str | None]:
    """The other records an event of the version points at: run, model, data, waivers."""
    payload = event["payload"]
    found: set[str | None] = {payload.get("run_id"), payload.get("model_id")}
    if event["target"]["kind"] == "waiver":
        found.add(event["target"]["id"])
    lineage = (payload.get("input") or {}).get("lineage") or {}
    for key in ("datasets", "features"):
        found |= {item.get("id") for item in lineage.get(key) or []}
    return found


def _matching(
    lines: Lines, needle: bytes, keep: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    return _matching_any(lines, [needle], keep)


def _matching_any(
    lines: Lines, needles: list[bytes], keep: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    if not needles:
        return []
    found = []
    for line in lines():
        if any(needle in line for needle in needles):
            event = orjson.loads(line)
            if keep(event):
                found.append(event)
    return found


def tell(events: list[dict[str, Any]], release_id: str) -> dict[str, Any]:
    """The release's story from its related events (see :func:`related`)."""
    promote = next(
        e
        for e in events
        if e["action"] == "model.promote" and e["payload"].get("release_id") == release_id
    )
    version_id = promote["target"]["id"]
    env = promote["environment"]
    mine = [e for e in events if e["target"]["id"] == version_id]
    before = [e for e in mine if e["seq"] <= promote["seq"]]
    decision = _promote_decision(before, promote)
    facts = decision["payload"]["input"] if decision else {}
    registered = _last(events, "model.version", version_id)
    run_id = (registered or {}).get("payload", {}).get("run_id")
    return {
        "release": _release(promote, facts),
        "model": _model(events, promote, facts),
        "training": _training(events, run_id, facts),
        "checks": _checks(registered, facts),
        "decisions": [
            _decision(e)
            for e in before
            if e["action"].startswith("policy.decision.") and e["environment"] in (None, env)
        ],
        "approvals": [
            _approval(e)
            for e in before
            if e["action"].startswith("model.signoff.") and e["environment"] in (None, env)
        ],
        "waivers": _waivers(events, version_id, env),
        "after": [
            _after(e)
            for e in mine
            if e["seq"] > promote["seq"]
            and e["outcome"] == "allowed"
            and e["action"].removeprefix("model.") in AFTER_ACTIONS
        ],
        "timeline": [_moment(e) for e in events],
    }


def _last(
    events: Iterable[dict[str, Any]], action: str, target: str | None
) -> dict[str, Any] | None:
    found = None
    for event in events:
        if event["action"] == action and event["target"]["id"] == target:
            found = event
    return found


def _promote_decision(
    before: list[dict[str, Any]], promote: dict[str, Any]
) -> dict[str, Any] | None:
    wanted = promote["payload"].get("decision_id")
    for event in before:
        if event["action"] == "policy.decision.promote" and (
            event["payload"].get("decision_id") == wanted
        ):
            return event
    return None


def _release(promote: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    payload = promote["payload"]
    return {
        "id": payload["release_id"],
        "model": promote["target"]["name"].rsplit("@", 1)[0],
        "model_id": payload.get("model_id"),
        "version": payload.get("version"),
        "version_id": promote["target"]["id"],
        "artifact_digest": (promote["digests"] or [None])[0],
        "environment": promote["environment"],
        "region": payload.get("region"),
        "requester": {"id": promote["actor"]["id"], "name": promote["actor"]["name"]},
        "at": promote["time"],
        "intent": promote["intent"],
        "category": payload.get("category"),
        "justification": payload.get("justification"),
        "decision_id": payload.get("decision_id"),
        "event": promote["id"],
    }


def _model(
    events: list[dict[str, Any]], promote: dict[str, Any], facts: dict[str, Any]
) -> dict[str, Any]:
    registered = _last(events, "model.register", promote["payload"].get("model_id"))
    stated = dict((registered or {}).get("payload") or {})
    known = facts.get("model") or {}
    return {
        "id": promote["payload"].get("model_id"),
        "name": promote["target"]["name"].rsplit("@", 1)[0],
        "owner": stated.get("owner", known.get("owner")),
        "risk_tier": stated.get("risk_tier", known.get("risk_tier")),
        "intended_use": stated.get("intended_use", known.get("intended_use")),
    }


def _training(
    events: list[dict[str, Any]], run_id: str | None, facts: dict[str, Any]
) -> dict[str, Any]:
    run = _last(events, "run.record", run_id)
    payload = (run or {}).get("payload") or {}
    lineage = facts.get("lineage") or {}
    return {
        "run_id": run_id,
        "actor": run["actor"]["id"] if run else None,
        "code_repo": payload.get("code_repo"),
        "commit": payload.get("commit"),
        "env_fingerprint": payload.get("env_fingerprint"),
        "parameters": payload.get("parameters"),
        "datasets": [_dataset(events, d) for d in lineage.get("datasets") or []],
        "features": [
            {key: f.get(key) for key in FEATURE_KEYS} for f in lineage.get("features") or []
        ],
    }


def _dataset(events: list[dict[str, Any]], seen: dict[str, Any]) -> dict[str, Any]:
    """A dataset version as the policy saw it at the release, and what its events say."""
    created = _last(events, "dataset.version", seen.get("id"))
    created_payload = (created or {}).get("payload") or {}
    approved = _last(events, "dataset.approve", seen.get("id"))
    flagged = _last(events, "dataset.flag", seen.get("id"))
    return {
        "id": seen.get("id"),
        "name": seen.get("name"),
        "version": seen.get("version"),
        "digest": ((created or {}).get("digests") or [seen.get("digest")])[0],
        "sensitivity": created_payload.get("sensitivity", seen.get("sensitivity")),
        "region": created_payload.get("region", seen.get("region")),
        "approval_status": "approved" if approved else seen.get("approval_status"),
        "approved_by": approved["actor"]["id"] if approved else None,
        "flagged_for_removal": flagged is not None,
    }


def _checks(registered: dict[str, Any] | None, facts: dict[str, Any]) -> dict[str, Any]:
    payload = (registered or {}).get("payload") or {}
    version = facts.get("version") or {}
    return {
        "metrics": payload.get("metrics", version.get("metrics")),
        "evaluations": payload.get("evaluations", version.get("evaluations")),
    }


def _decision(event: dict[str, Any]) -> dict[str, Any]:
    payload = event["payload"]
    return {
        "id": payload.get("decision_id"),
        "checkpoint": payload.get("checkpoint"),
        "environment": event["environment"],
        "allowed": payload.get("allowed"),
        "bundle_digest": payload.get("bundle_digest"),
        "input_digest": payload.get("input_digest"),
        "violations": sorted(str(v.get("id")) for v in payload.get("violations") or []),
        "waived": sorted(str(v.get("id")) for v in payload.get("waived") or []),
        "actor": event["actor"]["id"],
        "at": event["time"],
    }


def _approval(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "principal_id": event["actor"]["id"],
        "principal": event["actor"]["name"],
        "role": event["payload"].get("role"),
        "decision": event["payload"].get("decision"),
        "environment": event["environment"],
        "artifact_digest": (event["digests"] or [None])[0],
        "at": event["time"],
    }


def _waivers(
    events: list[dict[str, Any]], version_id: str, env: str | None
) -> list[dict[str, Any]]:
    told: dict[str, dict[str, Any]] = {}
    for event in events:
        if event["target"]["kind"] != "waiver":
            continue
        payload = event["payload"]
        if payload.get("model_version_id") != version_id or event["environment"] not in (None, env):
            continue
        verb = event["action"].removeprefix("waiver.")
        if verb == "request":
            told[event["target"]["id"]] = {
                "id": event["target"]["id"],
                "rule_ids": list(payload.get("rule_ids") or []),
                "environment": event["environment"],
                "reason": event["reason"],
                "compensating_control": payload.get("compensating_control"),
                "expires_at": _utc(payload.get("expires_at")),
                "status": "pending",
                "requested_by": event["actor"]["id"],
                "decided_by": None,
            }
        elif event["target"]["id"] in told:
            waiver = told[event["target"]["id"]]
            waiver["status"] = {"approve": "approved", "reject": "rejected"}.get(verb, verb)
            if verb in ("approve", "reject"):
                waiver["decided_by"] = event["actor"]["id"]
    return list(told.values())


def _after(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": event["action"].removeprefix("model."),
        "environment": event["environment"],
        "actor_id": event["actor"]["id"],
        "intent": event["intent"] or event["reason"],
        "at": event["time"],
    }


def _moment(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": event["seq"],
        "at": event["time"],
        "actor": event["actor"]["name"],
        "action": event["action"],
        "outcome": event["outcome"],
        "target": event["target"].get("name") or event["target"]["id"],
        "environment": event["environment"],
        "note": event["intent"] or event["reason"],
    }


def _utc(value: Any) -> str | None:
    """An ISO time as RFC 3339 UTC with microseconds and Z, the form events use."""
    if not isinstance(value, str):
        return None
    moment = datetime.fromisoformat(value)
    return rfc3339(moment) if moment.tzinfo else value
