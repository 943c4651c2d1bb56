"""The default policy bundle's rules in plain Python: the lower bound for the policy benchmark.

``decide`` gives the same violations (ids, messages, remediations, owner roles) as
``trustplane.decision.violations`` of ``src/trustplane/policy/bundles/default`` for a fact
document and the bundle's ``config``; ``allowed`` gives the same verdict as ``allow``. The
Rego bundle is the source of truth: this twin exists so the benchmark can show what the
evaluator costs over straight-line code, and the bundle's tests keep the two in step.

Numbers in messages are formatted the way the Rego evaluator's ``sprintf`` does (measured
values with ``%.6g``; ``%v`` prints a float with 16 significant digits), so messages compare
equal too.

``fixture`` builds a realistic fact document that the default bundle allows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Violation = dict[str, str]

TIERS = ("low", "medium", "high", "critical")
CHECKPOINTS = ("submit", "approve", "promote", "deploy")
#: Rules that apply from approve on, not at submit (as ``release_only`` in decision.rego).
RELEASE_ONLY = frozenset({"TP-METRIC-THRESHOLD", "TP-FAIRNESS-GAP", "TP-DATA-UNAPPROVED"})
RANKS = {"public": 0, "internal": 1, "confidential": 2, "restricted-personal": 3}
FAIRNESS_REMEDIATION = (
    "Evaluate the model per group (entries of version.evaluations with group, metric and value)"
    " for at least one metric and two or more groups."
)


# -- helpers mirroring common.rego ----------------------------------------------------------


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_string(x: Any) -> bool:
    return isinstance(x, str)


def _eq(a: Any, b: Any) -> bool:
    """Rego equality on scalars: numbers compare by value, nothing else crosses types."""
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)


def _member(x: Any, xs: Iterable[Any]) -> bool:
    return any(_eq(x, y) for y in xs)


def _get(x: Any, key: str) -> Any:
    return x.get(key) if isinstance(x, dict) else None


def _array(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def _num(x: Any) -> str:
    """A number as Rego's ``%v`` prints it."""
    if isinstance(x, float):
        return "%.16g" % x  # noqa: UP031 (the evaluator's own format)
    return str(x)


def _g(x: Any) -> str:
    """A measured number as the messages print it (``%.6g``)."""
    return "%.6g" % x  # noqa: UP031 (the evaluator's own format)


def _v(x: Any) -> str:
    """A scalar as Rego's ``%v`` prints it (strings bare, numbers as the evaluator does)."""
    return _num(x) if _is_number(x) else str(x)


def _type_name(x: Any) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "boolean"
    if _is_number(x):
        return "number"
    if isinstance(x, str):
        return "string"
    if isinstance(x, list):
        return "array"
    return "object"


def _describe(x: Any) -> str:
    if isinstance(x, str):
        return f'"{x}"'
    if x is None:
        return "null"
    if isinstance(x, list):
        return "an array"
    if isinstance(x, dict):
        return "an object"
    return f"a {_type_name(x)}"


def _tier(f: Any) -> str:
    t = _get(_get(f, "model"), "risk_tier")
    return t if _member(t, TIERS) else "critical"


def _versioned(v: Any) -> bool:
    return _is_string(v) or _is_number(v)


def _label(d: Any, i: int) -> str:
    name, version = _get(d, "name"), _get(d, "version")
    if _is_string(name) and _versioned(version):
        return f"{name}@{_v(version)}"
    if _is_string(name):
        return str(name)
    if _is_string(_get(d, "id")):
        return str(_get(d, "id"))
    return f"#{i}"


def _who(a: Any, i: int) -> str:
    for key in ("principal", "principal_id"):
        if _is_string(_get(a, key)):
            return str(_get(a, key))
    if _is_string(_get(a, "id")):
        return f"approval {_get(a, 'id')}"
    return f"approval #{i}"


def _strings(xs: Any) -> list[str]:
    return [x for x in _array(xs) if isinstance(x, str)]


def _listing(xs: list[str]) -> str:
    return ", ".join(xs) if xs else "none"


def _reason(r: Any) -> str:
    return r if isinstance(r, str) else "no reason given"


def _violation(rule_id: str, message: str, remediation: str, owner_role: str) -> Violation:
    return {
        "id": rule_id,
        "message": message,
        "remediation": remediation,
        "owner_role": owner_role,
    }


# -- the rules, one function per Rego package -------------------------------------------------


def _checkpoint(f: Any) -> list[Violation]:
    c = _get(f, "checkpoint")
    if _member(c, CHECKPOINTS):
        return []
    return [
        _violation(
            "TP-CHECKPOINT",
            f"unknown checkpoint {_describe(c)}: expected submit, approve, promote or deploy",
            "Fix the caller: every decision must name its checkpoint"
            " (submit, approve, promote or deploy).",
            "risk-officer",
        )
    ]


def _risk(f: Any) -> list[Violation]:
    t = _get(_get(f, "model"), "risk_tier")
    if _member(t, TIERS):
        return []
    return [
        _violation(
            "TP-RISK-TIER",
            f"model risk tier is {_describe(t)}, not one of low, medium, high, critical",
            "Set the model's risk tier to low, medium, high or critical;"
            " until then it is held to the critical tier's rules.",
            "trainer",
        )
    ]


def _state(f: Any) -> list[Violation]:
    version = _get(f, "version")
    s = _get(version, "state")
    if not _is_string(s):
        return [
            _violation(
                "TP-STATE-SUSPENDED",
                f"the model version's state is {_describe(s)},"
                " so it cannot be shown not to be suspended",
                "Record the version's lifecycle state in the registry before deciding on it.",
                "risk-officer",
            )
        ]
    if s != "suspended":
        return []
    n = _get(version, "version")
    name = _v(n) if _versioned(n) else "(unnumbered)"
    return [
        _violation(
            "TP-STATE-SUSPENDED",
            f"model version {name} is suspended",
            "Resolve the incident that suspended the version and have a risk officer reinstate"
            " it; a suspension cannot be waived.",
            "risk-officer",
        )
    ]


def _evidence(f: Any) -> list[Violation]:
    remediation = (
        "Supply the missing evidence (owner, intended use, producing run, metrics,"
        " evaluations...) in the registry, then retry."
    )
    missing = _get(_get(f, "evidence"), "missing")
    if not isinstance(missing, list):
        return [
            _violation(
                "TP-EVIDENCE",
                f"no completeness report: evidence.missing is {_describe(missing)}",
                remediation,
                "trainer",
            )
        ]
    if not missing:
        return []
    names = [x if isinstance(x, str) else f"<{_type_name(x)}>" for x in missing]
    return [
        _violation(
            "TP-EVIDENCE",
            f"evidence missing for tier {_tier(f)}: {', '.join(names)}",
            remediation,
            "trainer",
        )
    ]


def _model_name(f: Any) -> str:
    n = _get(_get(f, "model"), "name")
    return n if isinstance(n, str) else ""


def _metric_spec(f: Any, cfg: Any) -> tuple[dict[str, Any], str]:
    """The metric bounds that apply, and where they come from (for messages)."""
    metrics_cfg = _get(cfg, "metrics")
    spec = _get(_get(metrics_cfg, "by_model"), _model_name(f))
    if isinstance(spec, dict):
        return spec, f"model {_describe(_model_name(f))}"
    spec = _get(_get(metrics_cfg, "by_tier"), _tier(f))
    scope = f"tier {_tier(f)}"
    return (spec if isinstance(spec, dict) else {}), scope


def _metric_value(f: Any, m: str) -> Any:
    for source in ("version", "run"):
        x = _get(_get(_get(f, source), "metrics"), m)
        if _is_number(x):
            return x
    return None


def _metrics(f: Any, cfg: Any) -> list[Violation]:
    spec, scope = _metric_spec(f, cfg)
    out: list[Violation] = []
    for m, bounds in spec.items():
        x = _metric_value(f, m)
        record = (
            f"Evaluate the model for \"{m}\" and record it in the version's (or its run's) metrics."
        )
        if x is None:
            out.append(
                _violation(
                    "TP-METRIC-MISSING",
                    f'metric "{m}" required for {scope} is not reported as a number'
                    " (version.metrics or run.metrics)",
                    record,
                    "trainer",
                )
            )
        for kind in ("min", "max"):
            bound = _get(bounds, kind)
            if not _is_number(bound):
                continue
            if x is None:
                out.append(
                    _violation(
                        "TP-METRIC-THRESHOLD",
                        f'metric "{m}" has no numeric value to hold to the {kind} {_g(bound)}'
                        f" for {scope}",
                        record,
                        "validator",
                    )
                )
            elif kind == "min" and x < bound:
                out.append(
                    _violation(
                        "TP-METRIC-THRESHOLD",
                        f'metric "{m}" is {_g(x)}, below the minimum {_g(bound)} for {scope}',
                        f'Improve the model until "{m}" reaches {_g(bound)}, or have the bound'
                        " changed in config.metrics (or waived).",
                        "validator",
                    )
                )
            elif kind == "max" and x > bound:
                out.append(
                    _violation(
                        "TP-METRIC-THRESHOLD",
                        f'metric "{m}" is {_g(x)}, above the maximum {_g(bound)} for {scope}',
                        f'Improve the model until "{m}" is at most {_g(bound)}, or have the'
                        " bound changed in config.metrics (or waived).",
                        "validator",
                    )
                )
    return out


def _group_value(e: Any) -> bool:
    return (
        _is_string(_get(e, "group"))
        and _is_string(_get(e, "metric"))
        and _is_number(_get(e, "value"))
    )


def _fairness(f: Any, cfg: Any) -> list[Violation]:
    tier = _tier(f)
    tolerance = _get(_get(_get(cfg, "fairness"), "max_gap"), tier)
    if not _is_number(tolerance):
        return []
    evaluations = _get(_get(f, "version"), "evaluations")
    if not isinstance(evaluations, list):
        return [
            _violation(
                "TP-FAIRNESS-MISSING",
                f"tier {tier} requires a fairness evaluation (tolerance {_g(tolerance)})"
                f" but version.evaluations is {_describe(evaluations)}",
                FAIRNESS_REMEDIATION,
                "validator",
            ),
            _violation(
                "TP-FAIRNESS-GAP",
                f"the fairness gap cannot be checked against the tolerance {_g(tolerance)}"
                f" for tier {tier}: version.evaluations is {_describe(evaluations)}",
                FAIRNESS_REMEDIATION,
                "validator",
            ),
        ]
    out: list[Violation] = []
    groups: dict[str, set[str]] = {}
    values: dict[str, list[Any]] = {}
    for i, e in enumerate(evaluations):
        if _group_value(e):
            groups.setdefault(e["metric"], set()).add(e["group"])
            values.setdefault(e["metric"], []).append(e["value"])
        elif _get(e, "group") is not None:
            name = _get(e, "name")
            label = name if isinstance(name, str) else f"#{i}"
            out.append(
                _violation(
                    "TP-FAIRNESS-GAP",
                    f"evaluation {label} has a group but no usable value"
                    f" (group {_describe(_get(e, 'group'))},"
                    f" metric {_describe(_get(e, 'metric'))},"
                    f" value {_describe(_get(e, 'value'))})",
                    "Record each group evaluation with a string group, a string metric and a"
                    " numeric value.",
                    "validator",
                )
            )
    if not any(len(g) >= 2 for g in groups.values()):
        out.append(
            _violation(
                "TP-FAIRNESS-MISSING",
                f"tier {tier} requires a fairness evaluation (tolerance {_g(tolerance)})"
                " but no metric in version.evaluations has values for two or more groups",
                FAIRNESS_REMEDIATION,
                "validator",
            )
        )
    for m, vs in values.items():
        gap = max(vs) - min(vs)
        if gap > tolerance:
            out.append(
                _violation(
                    "TP-FAIRNESS-GAP",
                    f'metric "{m}" varies by {_g(gap)} across groups'
                    f" {', '.join(sorted(groups[m]))}, above the tolerance {_g(tolerance)}"
                    f" for tier {tier}",
                    f'Mitigate the disparity in "{m}" (reweighting, thresholds per group, more'
                    " data) and re-evaluate, or request a waiver with a justification.",
                    "validator",
                )
            )
    return out


def _datasets(f: Any) -> Any:
    return _get(_get(f, "lineage"), "datasets")


def _unknown_datasets(f: Any, rule_id: str, purpose: str) -> Violation:
    return _violation(
        rule_id,
        "the datasets the model was trained on are unknown:"
        f" lineage.datasets is {_describe(_datasets(f))}",
        f"Record the producing run's lineage (the dataset versions it read) so {purpose}"
        " can be checked.",
        "data-steward",
    )


def _data(f: Any) -> list[Violation]:
    ds = _datasets(f)
    if not isinstance(ds, list):
        return [
            _unknown_datasets(f, "TP-DATA-UNAPPROVED", "their approval"),
            _unknown_datasets(f, "TP-DATA-FLAGGED", "removal flags"),
        ]
    out: list[Violation] = []
    for i, d in enumerate(ds):
        label = _label(d, i)
        status = _get(d, "approval_status")
        if not _eq(status, "approved"):
            out.append(
                _violation(
                    "TP-DATA-UNAPPROVED",
                    f"dataset {label} is not approved (approval_status {_describe(status)})",
                    f"Have a data steward review and approve dataset {label},"
                    " or retrain without it.",
                    "data-steward",
                )
            )
        flag = _get(d, "flagged_for_removal")
        if flag is True:
            out.append(
                _violation(
                    "TP-DATA-FLAGGED",
                    f"dataset {label} is flagged for removal: {_reason(_get(d, 'flag_reason'))}",
                    f"Retrain without dataset {label} (or have the flag cleared by a data"
                    " steward), then resubmit.",
                    "data-steward",
                )
            )
        elif not isinstance(flag, bool):
            out.append(
                _violation(
                    "TP-DATA-FLAGGED",
                    f"dataset {label} has no removal status"
                    f" (flagged_for_removal is {_describe(flag)})",
                    f"Record whether dataset {label} is flagged for removal.",
                    "data-steward",
                )
            )
    return out


def _features(f: Any) -> list[Violation]:
    fs = _get(_get(f, "lineage"), "features")
    if not isinstance(fs, list):
        return [
            _violation(
                "TP-FEATURE-DEPRECATED",
                f"the features the model uses are unknown: lineage.features is {_describe(fs)}",
                "Record the producing run's lineage (the feature versions it used) so"
                " deprecations can be checked.",
                "feature-engineer",
            )
        ]
    out: list[Violation] = []
    for i, x in enumerate(fs):
        label = _label(x, i)
        flag = _get(x, "deprecated")
        if flag is True:
            out.append(
                _violation(
                    "TP-FEATURE-DEPRECATED",
                    f"feature {label} is deprecated: {_reason(_get(x, 'deprecation_reason'))}",
                    f"Move the model off feature {label} to its replacement and retrain.",
                    "feature-engineer",
                )
            )
        elif not isinstance(flag, bool):
            out.append(
                _violation(
                    "TP-FEATURE-DEPRECATED",
                    f"feature {label} has no deprecation status (deprecated is {_describe(flag)})",
                    f"Record whether feature {label} is deprecated.",
                    "feature-engineer",
                )
            )
    return out


def _rank(s: Any) -> int | None:
    return RANKS.get(s) if isinstance(s, str) else None


def _allowed_regions(origin: Any, cfg: Any) -> list[Any]:
    if not isinstance(origin, str):
        return []
    rs = _get(_get(_get(cfg, "residency"), "allowed_regions"), origin)
    return rs if isinstance(rs, list) else [origin]


def _residency(f: Any, cfg: Any) -> list[Violation]:
    owner = "data-steward"
    out: list[Violation] = []
    env = _get(f, "environment")
    ds = _datasets(f)
    if not isinstance(env, dict):
        out.append(
            _violation(
                "TP-DATA-RESIDENCY",
                f"no target environment (environment is {_describe(env)}),"
                " so data residency cannot be checked",
                "Name the target environment, with its region and sensitivity ceiling,"
                " before approval, promotion or deployment.",
                owner,
            )
        )
    if not isinstance(ds, list):
        out.append(_unknown_datasets(f, "TP-DATA-RESIDENCY", "their residency"))
    if not isinstance(env, dict):
        return out
    env_name = _describe(_get(env, "name"))
    ceiling = _get(env, "sensitivity_ceiling")
    if _rank(ceiling) is None:
        out.append(
            _violation(
                "TP-DATA-RESIDENCY",
                f"environment {env_name} has an unknown sensitivity ceiling {_describe(ceiling)}",
                "Set the environment's sensitivity ceiling to public, internal, confidential"
                " or restricted-personal.",
                owner,
            )
        )
    here = _get(env, "region")
    for i, d in enumerate(_array(ds)):
        label = _label(d, i)
        s = _get(d, "sensitivity")
        rank, top = _rank(s), _rank(ceiling)
        if rank is None:
            out.append(
                _violation(
                    "TP-DATA-RESIDENCY",
                    f"dataset {label} has an unknown sensitivity {_describe(s)}",
                    f"Classify dataset {label} as public, internal, confidential or"
                    " restricted-personal.",
                    owner,
                )
            )
        elif top is not None and rank > top:
            out.append(
                _violation(
                    "TP-DATA-RESIDENCY",
                    f"dataset {label} is {s}, above the ceiling {ceiling} of environment"
                    f" {env_name}",
                    f"Deploy to an environment cleared for {s} data, or retrain without"
                    f" dataset {label}.",
                    owner,
                )
            )
        if s != "restricted-personal":
            continue
        origin = _get(d, "region")
        allowed = _allowed_regions(origin, cfg)
        if not _member(here, allowed):
            out.append(
                _violation(
                    "TP-DATA-RESIDENCY",
                    f"restricted-personal dataset {label} from region {_describe(origin)} may"
                    f" not be used in region {_describe(here)} (environment {env_name});"
                    f" allowed: {_listing(_strings(allowed))}",
                    f"Keep the model in a region allowed for dataset {label},"
                    " or retrain without it.",
                    owner,
                )
            )
    return out


def _signoffs(f: Any, cfg: Any) -> list[Violation]:
    approver = "release-approver"
    signoffs_cfg = _get(cfg, "signoffs")
    role = _get(signoffs_cfg, "role")
    role = role if isinstance(role, str) else approver
    need = _get(_get(signoffs_cfg, "required_by_tier"), _tier(f))
    need = need if _is_number(need) else 2
    approvals = _get(f, "approvals")
    version = _get(f, "version")
    digest = _get(version, "artifact_digest")
    submitter = _get(version, "submitted_by")
    actor = _get(_get(f, "run"), "actor")
    out: list[Violation] = []

    if not isinstance(approvals, list):
        for rule_id, owner in (
            ("TP-SIGNOFF-MISSING", role),
            ("TP-SIGNOFF-SOD", approver),
            ("TP-SIGNOFF-DIGEST", approver),
            ("TP-SIGNOFF-REJECTED", approver),
        ):
            out.append(
                _violation(
                    rule_id,
                    f"the sign-offs are unknown: approvals is {_describe(approvals)}",
                    "Pass the version's sign-offs for the target environment"
                    " (an empty list when there are none).",
                    owner,
                )
            )
    if not isinstance(digest, str):
        for rule_id in ("TP-SIGNOFF-DIGEST", "TP-SIGNOFF-REJECTED"):
            out.append(
                _violation(
                    rule_id,
                    f"the version's artifact digest is {_describe(digest)},"
                    " so sign-offs cannot be bound to it",
                    "Record the artifact digest of the model version in the registry.",
                    approver,
                )
            )
    if not isinstance(submitter, str):
        out.append(
            _violation(
                "TP-SIGNOFF-SOD",
                f"the version's submitter is {_describe(submitter)},"
                " so separation of duties cannot be checked",
                "Record who submitted the model version.",
                approver,
            )
        )
    if not isinstance(actor, str):
        out.append(
            _violation(
                "TP-SIGNOFF-SOD",
                f"the producing run's actor is {_describe(actor)},"
                " so separation of duties cannot be checked",
                "Record the producing run of the version and who ran it.",
                approver,
            )
        )

    valid: set[str] = set()
    for i, a in enumerate(_array(approvals)):
        who = _who(a, i)
        decision = _get(a, "decision")
        principal = _get(a, "principal_id")
        bound = _get(a, "artifact_digest")
        if not isinstance(a, dict):
            out.append(
                _violation(
                    "TP-SIGNOFF-DIGEST",
                    f"approval #{i} is {_describe(a)}, not a sign-off record",
                    "Pass each sign-off as an object with its principal, role, decision and"
                    " artifact digest.",
                    approver,
                )
            )
            continue
        if decision == "approve":
            conflict = None
            if isinstance(principal, str) and principal == submitter:
                conflict = "submitted"
            elif isinstance(principal, str) and principal == actor:
                conflict = "trained (as the producing run's actor)"
            if conflict is not None:
                out.append(
                    _violation(
                        "TP-SIGNOFF-SOD",
                        f"{who} signed off a version they {conflict}",
                        f"Withdraw the sign-off by {who}; an independent release approver must"
                        " sign off instead.",
                        approver,
                    )
                )
            if not isinstance(principal, str):
                out.append(
                    _violation(
                        "TP-SIGNOFF-SOD",
                        f"the sign-off by {who} names no principal"
                        f" (principal_id is {_describe(principal)})",
                        "Record who gave each sign-off.",
                        approver,
                    )
                )
            elif (
                isinstance(digest, str)
                and _get(a, "role") == role
                and bound == digest
                and principal != submitter
                and principal != actor
            ):
                valid.add(principal)
        if isinstance(digest, str) and not _eq(bound, digest):
            out.append(
                _violation(
                    "TP-SIGNOFF-DIGEST",
                    f"the sign-off by {who} is bound to artifact {_describe(bound)},"
                    f' not the current artifact "{digest}"',
                    f"Have {who} sign off the current artifact; a sign-off never carries over to"
                    " a different digest.",
                    approver,
                )
            )
        if isinstance(digest, str) and decision == "reject" and bound == digest:
            out.append(
                _violation(
                    "TP-SIGNOFF-REJECTED",
                    f"{who} rejected the current artifact",
                    f"Address the objections of {who} and submit a new version, or have the"
                    " rejection withdrawn.",
                    approver,
                )
            )
        if not _member(decision, ("approve", "reject")):
            out.append(
                _violation(
                    "TP-SIGNOFF-REJECTED",
                    f"the sign-off by {who} has an unknown decision {_describe(decision)}",
                    "Record each sign-off's decision as approve or reject.",
                    approver,
                )
            )

    have = len(valid)
    if isinstance(approvals, list) and have < need:
        out.append(
            _violation(
                "TP-SIGNOFF-MISSING",
                f'{need - have} more sign-off(s) needed from role "{role}": {have} of {need}'
                f" for tier {_tier(f)} (distinct principals, bound to the current artifact"
                " digest, neither its submitter nor its run's actor)",
                f"Ask {need - have} more {role}(s), other than the submitter and the trainer,"
                " to sign off this artifact.",
                role,
            )
        )
    return out


def _environment(f: Any, cfg: Any) -> list[Violation]:
    env = _get(f, "environment")
    if not isinstance(env, dict):
        return [
            _violation(
                "TP-ENV-TIER",
                f"no target environment (environment is {_describe(env)}),"
                " so it cannot be checked against the tier",
                "Name the target environment before approval, promotion or deployment.",
                "risk-officer",
            )
        ]
    name = _get(env, "name")
    allowed = _get(_get(_get(cfg, "environments"), "allowed_by_tier"), _tier(f))
    if isinstance(allowed, list) and isinstance(name, str) and _member("*", allowed):
        return []
    if isinstance(allowed, list) and isinstance(name, str) and _member(name, allowed):
        return []
    return [
        _violation(
            "TP-ENV-TIER",
            f"environment {_describe(name)} is not open to tier {_tier(f)} models"
            f" (allowed: {_listing(_strings(allowed))})",
            "Target an environment allowed for the model's tier, or have a risk officer change"
            " config.environments.allowed_by_tier.",
            "risk-officer",
        )
    ]


# -- the decision ------------------------------------------------------------------------------


def decide(facts: dict[str, Any], config: dict[str, Any]) -> list[Violation]:
    """The violations of ``facts`` under ``config`` (the bundle's ``data.config``), sorted."""
    found = [
        *_checkpoint(facts),
        *_risk(facts),
        *_state(facts),
        *_evidence(facts),
        *_metrics(facts, config),
        *_fairness(facts, config),
        *_data(facts),
        *_features(facts),
    ]
    if _get(facts, "checkpoint") == "submit":
        found = [v for v in found if v["id"] not in RELEASE_ONLY]
    else:
        found += [
            *_residency(facts, config),
            *_signoffs(facts, config),
            *_environment(facts, config),
        ]
    # A set, as in Rego: identical violations collapse into one.
    unique = {tuple(sorted(v.items())): v for v in found}
    return [unique[k] for k in sorted(unique)]


def allowed(facts: dict[str, Any], config: dict[str, Any]) -> bool:
    """True only when every violation is covered by a waiver and may be waived."""
    unwaivable = _array(_get(_get(config, "waivers"), "unwaivable"))
    waived = {
        rule_id
        for w in _array(_get(facts, "waivers"))
        for rule_id in _array(_get(w, "rule_ids"))
        if isinstance(rule_id, str) and not _member(rule_id, unwaivable)
    }
    return all(v["id"] in waived for v in decide(facts, config))


# -- a realistic fact document -----------------------------------------------------------------

_DIGEST = "sha256:" + "5e" * 32
_SUBMITTER = "pr_01JTRAINER00000000000000"
_ACTOR = "pr_01JPIPELINE0000000000000"


def fixture(datasets: int = 20) -> dict[str, Any]:
    """A high-risk model version promoted to prod that the default bundle allows.

    ``datasets`` dataset versions (the first restricted-personal from the UK, the rest internal
    or confidential), 5 feature versions, two valid sign-offs, metrics and per-group
    evaluations within the tier's fairness tolerance.
    """
    sensitivities = ("internal", "confidential")
    dataset_docs = [
        {
            "id": f"dv_{i:04d}",
            "name": "loans" if i == 0 else f"bureau-extract-{i}",
            "version": f"2026-{(i % 12) + 1:02d}",
            "digest": "sha256:" + f"{i:02x}" * 32,
            "sensitivity": "restricted-personal" if i == 0 else sensitivities[i % 2],
            "region": "uk",
            "approval_status": "approved",
            "flagged_for_removal": False,
            "flag_reason": None,
        }
        for i in range(datasets)
    ]
    feature_names = ("income_ratio", "tenure_months", "utilisation", "arrears_12m", "age_band")
    features = [
        {
            "id": f"fv_{i:04d}",
            "name": name,
            "version": str(i + 1),
            "review_status": "approved",
            "deprecated": False,
            "deprecation_reason": None,
        }
        for i, name in enumerate(feature_names)
    ]
    evaluations: list[dict[str, Any]] = [
        {
            "name": "auc-holdout",
            "passed": True,
            "value": 0.81,
            "threshold": 0.75,
            "metric": "auc",
            "group": None,
        }
    ]
    for group, tpr, fpr in (("female", 0.74, 0.08), ("male", 0.76, 0.09), ("other", 0.75, 0.07)):
        evaluations.append(
            {
                "name": f"tpr-{group}",
                "passed": True,
                "value": tpr,
                "threshold": None,
                "metric": "tpr",
                "group": group,
            }
        )
        evaluations.append(
            {
                "name": f"fpr-{group}",
                "passed": True,
                "value": fpr,
                "threshold": None,
                "metric": "fpr",
                "group": group,
            }
        )
    approvals = [
        {
            "id": f"apr_0{n}",
            "principal_id": f"pr_01JAPPROVER{n}00000000000",
            "principal": name,
            "role": "release-approver",
            "decision": "approve",
            "artifact_digest": _DIGEST,
            "at": f"2026-11-23T09:0{n}:00Z",
        }
        for n, name in ((1, "bob"), (2, "carol"))
    ]
    doc: dict[str, Any] = {
        "schema": "trustplane.policy.input/v1",
        "checkpoint": "promote",
        "at": "2026-11-23T10:00:00Z",
        "requester": {"id": "pr_01JRELEASE00000000000000", "name": "dave", "kind": "user"},
        "model": {
            "id": "mdl_01JCREDIT0000000000000000",
            "name": "credit-scoring",
            "owner": "risk-analytics",
            "intended_use": "Retail credit decisions for existing customers.",
            "out_of_scope_uses": ["employment screening"],
            "risk_tier": "high",
            "business_unit": "retail",
            "regulatory_tags": ["consumer-duty"],
        },
        "version": {
            "id": "mv_01JCREDIT0000000000000003",
            "version": 3,
            "artifact_digest": _DIGEST,
            "state": "approved",
            "submitted_by": _SUBMITTER,
            "validated_by": "pr_01JVALIDATOR0000000000000",
            "metrics": {"auc": 0.81, "ks": 0.42},
            "evaluations": evaluations,
            "tags": {"framework": "lightgbm"},
        },
        "run": {
            "id": "run_01JTRAIN000000000000000",
            "actor": _ACTOR,
            "code_repo": "https://git.example.com/risk/credit-scoring",
            "commit_sha": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
            "env_fingerprint": "sha256:" + "ab" * 32,
            "parameters": {"learning_rate": 0.05, "num_leaves": 63},
            "metrics": {"auc": 0.81},
        },
        "evidence": {
            "risk_tier": "high",
            "required": [
                "owner",
                "intended_use",
                "risk_tier",
                "producing_run",
                "code_commit",
                "dataset_versions",
                "env_fingerprint",
                "metrics",
                "evaluations",
                "out_of_scope_uses",
            ],
            "missing": [],
        },
        "lineage": {"datasets": dataset_docs, "features": features},
        "environment": {
            "id": "env_01JPROD000000000000000",
            "name": "prod",
            "region": "uk",
            "sensitivity_ceiling": "restricted-personal",
        },
        "approvals": approvals,
        "waivers": [],
        "promotion": {"intent": "data refresh", "justification": "Quarterly retrain."},
    }
    return doc
