"""The default policy bundle: its Rego unit tests pass, and its plain-Python twin agrees with it.

The bundle's tests are the rules named ``test_*`` in its ``*_test.rego`` packages. They are run
through one compiled bundle with an entrypoint per test: ``Interpreter.query`` would compile the
whole bundle again for every test (about half a second each), a compiled entrypoint answers in
milliseconds. A bundle that failed to build is never queried (rego-cpp crashes if it is).

``bench/policy_plain.py`` restates the rules in Python for the benchmark; it is checked here
against the bundle on the fixture it builds and on that fixture with each fact broken.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import regopy

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "src" / "trustplane" / "policy" / "bundles" / "default"
PLAIN = ROOT / "bench" / "policy_plain.py"
VIOLATIONS = "trustplane/decision/violations"
ALLOW = "trustplane/decision/allow"

RULE_IDS = {
    "TP-RISK-TIER",
    "TP-EVIDENCE",
    "TP-METRIC-MISSING",
    "TP-METRIC-THRESHOLD",
    "TP-FAIRNESS-MISSING",
    "TP-FAIRNESS-GAP",
    "TP-DATA-UNAPPROVED",
    "TP-DATA-FLAGGED",
    "TP-FEATURE-DEPRECATED",
    "TP-DATA-RESIDENCY",
    "TP-SIGNOFF-MISSING",
    "TP-SIGNOFF-SOD",
    "TP-SIGNOFF-DIGEST",
    "TP-SIGNOFF-REJECTED",
    "TP-STATE-SUSPENDED",
    "TP-ENV-TIER",
    "TP-CHECKPOINT",
}

#: What every rule is tested for (test names start ``test_<rule>_<case>``, e.g.
#: ``test_data_flagged_null_fires``), besides being waivable or not, as configured.
CASES = ("passes", "fires", "absent", "null", "wrong_type")

_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST = re.compile(r"^(test_\w+)\b", re.MULTILINE)
_COMMENT = re.compile(r"#[^\n]*")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`')


def _sources() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(BUNDLE.glob("*.rego"))}


def _data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((BUNDLE / "data.json").read_text(encoding="utf-8"))
    return loaded


def _tests(sources: dict[str, str]) -> list[str]:
    """Every ``test_*`` rule as ``package/path/rule`` (an entrypoint), in file order."""
    found: list[str] = []
    for source in sources.values():
        package = _PACKAGE.search(source)
        assert package is not None
        for name in _TEST.findall(source):
            entrypoint = package.group(1).replace(".", "/") + "/" + name
            if entrypoint not in found:
                found.append(entrypoint)
    return found


def _interpreter(sources: dict[str, str]) -> Any:
    interpreter = regopy.Interpreter()
    interpreter.add_data_json(json.dumps(_data()))
    for name, source in sources.items():
        interpreter.add_module(name, source)
    return interpreter


def _plain() -> ModuleType:
    spec = importlib.util.spec_from_file_location("policy_plain", PLAIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


plain = _plain()


@pytest.fixture(scope="module")
def decision() -> Iterator[Callable[[dict[str, Any]], tuple[list[dict[str, Any]], Any]]]:
    """Evaluate both decision rules on a fact document, in one query of the compiled rules.

    One query computes ``violations`` once for both rules (two entrypoint queries would compute
    it twice); the entrypoints themselves are checked on the fixture.
    """
    rules = {n: src for n, src in _sources().items() if not n.endswith("_test.rego")}
    interpreter = _interpreter(rules)
    compiled = interpreter.build(
        "violations := data.trustplane.decision.violations;"
        " allow := data.trustplane.decision.allow",
        [VIOLATIONS, ALLOW],
    )
    assert compiled.ok(), "the default bundle does not compile"

    def evaluate(facts: dict[str, Any]) -> tuple[list[dict[str, Any]], Any]:
        interpreter.set_input(regopy.Input(facts))
        text = str(interpreter.query_bundle(compiled))
        assert text.startswith("{"), text[:300]
        bindings = json.loads(text)["bindings"]
        violations, allow = bindings["violations"], bindings["allow"]
        assert isinstance(violations, list)
        return sorted(violations, key=lambda v: sorted(v.items())), allow

    yield evaluate


def test_the_bundle_never_uses_with() -> None:
    """``with`` over a builtin call crashes the evaluator, so the bundle must not use it."""
    for name, source in _sources().items():
        code = _COMMENT.sub("", _STRING.sub('""', source))
        assert not re.search(r"\bwith\b", code), f"{name} uses `with`"


def test_every_rego_test_passes() -> None:
    sources = _sources()
    tests = _tests(sources)
    interpreter = _interpreter(sources)
    compiled = interpreter.build(None, tests)
    assert compiled.ok(), "the default bundle's tests do not compile"
    failed = {}
    for entrypoint in tests:
        text = str(interpreter.query_bundle_entrypoint(compiled, entrypoint))
        if text != '{"expressions":[true]}':
            failed[entrypoint] = text[:200]
    assert not failed, f"{len(failed)} of {len(tests)} Rego tests failed: {failed}"


def test_every_rule_is_tested_for_each_case() -> None:
    sources = _sources()
    rules = {n: s for n, s in sources.items() if not n.endswith("_test.rego")}
    named = set(re.findall(r'"(TP-[A-Z-]+)"', "\n".join(rules.values())))
    assert named == RULE_IDS
    unwaivable = set(_data()["config"]["waivers"]["unwaivable"])
    names = [entrypoint.rsplit("/", 1)[1] for entrypoint in _tests(sources)]
    missing = []
    for rule_id in sorted(RULE_IDS):
        slug = rule_id.removeprefix("TP-").lower().replace("-", "_")
        waiving = "unwaivable" if rule_id in unwaivable else "waivable"
        for case in (*CASES, waiving):
            prefix = f"test_{slug}_{case}"
            if not any(n == prefix or n.startswith(prefix + "_") for n in names):
                missing.append(prefix)
    assert not missing, f"untested: {missing}"


def test_the_plain_rules_name_every_rule() -> None:
    found = {v["id"] for v in plain.decide({}, _data()["config"])}
    assert found == RULE_IDS


# -- the plain twin against the bundle ----------------------------------------------------------

DROP = object()
SUBMITTER = plain.fixture(1)["version"]["submitted_by"]
ACTOR = plain.fixture(1)["run"]["actor"]
FIRST_APPROVER = plain.fixture(1)["approvals"][0]["principal_id"]
FactPath = tuple[str | int, ...]


def _approval(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = copy.deepcopy(plain.fixture(1)["approvals"][1])
    base.update(fields)
    return base


#: The fixture with one fact (or a few) broken: name -> [(path, value or DROP)].
BROKEN: dict[str, list[tuple[FactPath, Any]]] = {
    "checkpoint submit": [(("checkpoint",), "submit")],
    "checkpoint approve": [(("checkpoint",), "approve")],
    "checkpoint deploy": [(("checkpoint",), "deploy")],
    "checkpoint unknown": [(("checkpoint",), "review")],
    "checkpoint absent": [(("checkpoint",), DROP)],
    "checkpoint null": [(("checkpoint",), None)],
    "checkpoint wrong type": [(("checkpoint",), 3)],
    "submit without environment or sign-offs": [
        (("checkpoint",), "submit"),
        (("environment",), None),
        (("approvals",), []),
        (("promotion",), None),
    ],
    "submit with missing evidence": [
        (("checkpoint",), "submit"),
        (("evidence", "missing"), ["owner"]),
    ],
    "model absent": [(("model",), DROP)],
    "model null": [(("model",), None)],
    "model wrong type": [(("model",), "credit-scoring")],
    "tier low": [(("model", "risk_tier"), "low")],
    "tier medium": [(("model", "risk_tier"), "medium")],
    "tier critical": [(("model", "risk_tier"), "critical")],
    "tier unknown": [(("model", "risk_tier"), "extreme")],
    "tier absent": [(("model", "risk_tier"), DROP)],
    "tier null": [(("model", "risk_tier"), None)],
    "tier wrong type": [(("model", "risk_tier"), 2)],
    "version absent": [(("version",), DROP)],
    "version null": [(("version",), None)],
    "version wrong type": [(("version",), [])],
    "state suspended": [(("version", "state"), "suspended")],
    "state suspended unnumbered": [
        (("version", "state"), "suspended"),
        (("version", "version"), None),
    ],
    "state draft": [(("version", "state"), "draft")],
    "state absent": [(("version", "state"), DROP)],
    "state null": [(("version", "state"), None)],
    "state wrong type": [(("version", "state"), True)],
    "evidence absent": [(("evidence",), DROP)],
    "evidence null": [(("evidence",), None)],
    "evidence missing items": [(("evidence", "missing"), ["owner", "metrics"])],
    "evidence missing null": [(("evidence", "missing"), None)],
    "evidence missing wrong type": [(("evidence", "missing"), "owner")],
    "evidence missing odd items": [(("evidence", "missing"), [1, "owner", None])],
    "metrics on the run only": [(("version", "metrics"), {})],
    "metrics nowhere": [(("version", "metrics"), {}), (("run", "metrics"), {})],
    "metrics absent": [(("version", "metrics"), DROP), (("run",), DROP)],
    "metrics null": [(("version", "metrics"), None), (("run", "metrics"), None)],
    "metric null": [(("version", "metrics", "auc"), None), (("run", "metrics", "auc"), None)],
    "metric wrong type": [
        (("version", "metrics", "auc"), "0.9"),
        (("run", "metrics", "auc"), True),
    ],
    "metric below the minimum": [(("version", "metrics", "auc"), 0.7)],
    "metric at the minimum": [(("version", "metrics", "auc"), 0.75)],
    "metric below on the run": [(("version", "metrics"), {}), (("run", "metrics", "auc"), 0.07)],
    "metric unknown tier": [(("model", "risk_tier"), None), (("version", "metrics", "auc"), 0.78)],
    "evaluations absent": [(("version", "evaluations"), DROP)],
    "evaluations null": [(("version", "evaluations"), None)],
    "evaluations wrong type": [(("version", "evaluations"), "tpr-by-sex")],
    "evaluations empty": [(("version", "evaluations"), [])],
    "evaluations without groups": [
        (
            ("version", "evaluations"),
            [{"name": "auc", "metric": "auc", "value": 0.8, "group": None}],
        )
    ],
    "evaluation gap": [(("version", "evaluations", 3, "value"), 0.95)],
    "evaluation gap critical": [
        (("model", "risk_tier"), "critical"),
        (("version", "evaluations", 3, "value"), 0.81),
    ],
    "evaluation group value null": [(("version", "evaluations", 3, "value"), None)],
    "evaluation group value wrong type": [(("version", "evaluations", 3, "value"), "0.7")],
    "evaluation group wrong type": [(("version", "evaluations", 3, "group"), 7)],
    "evaluation metric null": [(("version", "evaluations", 3, "metric"), None)],
    "evaluation entry wrong type": [(("version", "evaluations", 2), "tpr")],
    "evaluation gap low tier": [
        (("model", "risk_tier"), "low"),
        (("version", "evaluations", 3, "value"), 0.95),
    ],
    "lineage absent": [(("lineage",), DROP)],
    "lineage null": [(("lineage",), None)],
    "lineage wrong type": [(("lineage",), "loans")],
    "datasets empty": [(("lineage", "datasets"), [])],
    "datasets absent": [(("lineage", "datasets"), DROP)],
    "datasets null": [(("lineage", "datasets"), None)],
    "datasets wrong type": [(("lineage", "datasets"), {"loans": "approved"})],
    "dataset wrong type": [(("lineage", "datasets", 4), "dv_0004")],
    "dataset pending": [(("lineage", "datasets", 2, "approval_status"), "pending")],
    "dataset approval absent": [(("lineage", "datasets", 2, "approval_status"), DROP)],
    "dataset approval null": [(("lineage", "datasets", 2, "approval_status"), None)],
    "dataset approval wrong type": [(("lineage", "datasets", 2, "approval_status"), True)],
    "dataset unnamed pending": [
        (("lineage", "datasets", 2, "name"), None),
        (("lineage", "datasets", 2, "approval_status"), "pending"),
    ],
    "dataset anonymous pending": [
        (("lineage", "datasets", 2, "name"), None),
        (("lineage", "datasets", 2, "id"), None),
        (("lineage", "datasets", 2, "approval_status"), "pending"),
    ],
    "dataset numbered version pending": [
        (("lineage", "datasets", 2, "version"), 7),
        (("lineage", "datasets", 2, "approval_status"), "pending"),
    ],
    "dataset flagged": [
        (("lineage", "datasets", 3, "flagged_for_removal"), True),
        (("lineage", "datasets", 3, "flag_reason"), "consent withdrawn"),
    ],
    "dataset flagged without reason": [(("lineage", "datasets", 3, "flagged_for_removal"), True)],
    "dataset flag absent": [(("lineage", "datasets", 3, "flagged_for_removal"), DROP)],
    "dataset flag null": [(("lineage", "datasets", 3, "flagged_for_removal"), None)],
    "dataset flag wrong type": [(("lineage", "datasets", 3, "flagged_for_removal"), "no")],
    "dataset sensitivity unknown": [(("lineage", "datasets", 0, "sensitivity"), "secret")],
    "dataset sensitivity absent": [(("lineage", "datasets", 1, "sensitivity"), DROP)],
    "dataset sensitivity null": [(("lineage", "datasets", 1, "sensitivity"), None)],
    "dataset sensitivity wrong type": [(("lineage", "datasets", 1, "sensitivity"), 3)],
    "dataset region elsewhere": [(("lineage", "datasets", 0, "region"), "us")],
    "dataset region absent": [(("lineage", "datasets", 0, "region"), DROP)],
    "dataset region null": [(("lineage", "datasets", 0, "region"), None)],
    "dataset region wrong type": [(("lineage", "datasets", 0, "region"), ["uk"])],
    "restricted dataset from another region": [
        (("lineage", "datasets", 2, "sensitivity"), "restricted-personal"),
        (("lineage", "datasets", 2, "region"), "eu"),
    ],
    "features absent": [(("lineage", "features"), DROP)],
    "features null": [(("lineage", "features"), None)],
    "features wrong type": [(("lineage", "features"), "income_ratio")],
    "features empty": [(("lineage", "features"), [])],
    "feature deprecated": [
        (("lineage", "features", 2, "deprecated"), True),
        (("lineage", "features", 2, "deprecation_reason"), "replaced by v3"),
    ],
    "feature deprecated without reason": [(("lineage", "features", 2, "deprecated"), True)],
    "feature flag absent": [(("lineage", "features", 2, "deprecated"), DROP)],
    "feature flag null": [(("lineage", "features", 2, "deprecated"), None)],
    "feature flag wrong type": [(("lineage", "features", 2, "deprecated"), "yes")],
    "feature wrong type": [(("lineage", "features", 1), ["tenure_months"])],
    "environment absent": [(("environment",), DROP)],
    "environment null": [(("environment",), None)],
    "environment wrong type": [(("environment",), "prod")],
    "environment name absent": [(("environment", "name"), DROP)],
    "environment name null": [(("environment", "name"), None)],
    "environment name wrong type": [(("environment", "name"), 1)],
    "environment elsewhere": [(("environment", "region"), "us")],
    "environment region absent": [(("environment", "region"), DROP)],
    "environment region null": [(("environment", "region"), None)],
    "environment ceiling internal": [(("environment", "sensitivity_ceiling"), "internal")],
    "environment ceiling public": [(("environment", "sensitivity_ceiling"), "public")],
    "environment ceiling unknown": [(("environment", "sensitivity_ceiling"), "top-secret")],
    "environment ceiling null": [(("environment", "sensitivity_ceiling"), None)],
    "environment ceiling wrong type": [(("environment", "sensitivity_ceiling"), 3)],
    "approvals absent": [(("approvals",), DROP)],
    "approvals null": [(("approvals",), None)],
    "approvals wrong type": [(("approvals",), "bob, carol")],
    "approvals empty": [(("approvals",), [])],
    "approval entry wrong type": [(("approvals", 1), "carol")],
    "approval entry null": [(("approvals", 1), None)],
    "approval by the submitter": [(("approvals", 1, "principal_id"), SUBMITTER)],
    "approval by the trainer": [(("approvals", 1, "principal_id"), ACTOR)],
    "approval twice by one principal": [(("approvals", 1, "principal_id"), FIRST_APPROVER)],
    "approval principal absent": [(("approvals", 1, "principal_id"), DROP)],
    "approval principal null": [(("approvals", 1, "principal_id"), None)],
    "approval principal wrong type": [(("approvals", 1, "principal_id"), 7)],
    "approval unnamed principal null": [
        (("approvals", 1, "principal"), None),
        (("approvals", 1, "principal_id"), None),
    ],
    "approval in another role": [(("approvals", 1, "role"), "validator")],
    "approval of another artifact": [(("approvals", 1, "artifact_digest"), "sha256:old")],
    "approval digest absent": [(("approvals", 1, "artifact_digest"), DROP)],
    "approval digest null": [(("approvals", 1, "artifact_digest"), None)],
    "approval digest wrong type": [(("approvals", 1, "artifact_digest"), ["sha256:x"])],
    "approval rejects": [(("approvals", 1, "decision"), "reject")],
    "approval decision unknown": [(("approvals", 1, "decision"), "abstain")],
    "approval decision absent": [(("approvals", 1, "decision"), DROP)],
    "approval decision null": [(("approvals", 1, "decision"), None)],
    "approval decision wrong type": [(("approvals", 1, "decision"), True)],
    "rejection of another artifact": [
        (("approvals", 2), _approval(id="apr_03", decision="reject", artifact_digest="sha256:old"))
    ],
    "rejection of the artifact": [
        (
            ("approvals", 2),
            _approval(id="apr_03", principal="erin", principal_id="pr_erin", decision="reject"),
        )
    ],
    "digest absent": [(("version", "artifact_digest"), DROP)],
    "digest null": [(("version", "artifact_digest"), None)],
    "digest wrong type": [(("version", "artifact_digest"), 5)],
    "submitter absent": [(("version", "submitted_by"), DROP)],
    "submitter null": [(("version", "submitted_by"), None)],
    "submitter wrong type": [(("version", "submitted_by"), 1)],
    "run absent": [(("run",), DROP)],
    "run null": [(("run",), None)],
    "run wrong type": [(("run",), "run_1")],
    "run actor null": [(("run", "actor"), None)],
    "waived": [
        (("evidence", "missing"), ["owner"]),
        (("waivers",), [{"id": "wv_1", "rule_ids": ["TP-EVIDENCE"]}]),
    ],
    "waived only in part": [
        (("evidence", "missing"), ["owner"]),
        (("lineage", "features", 2, "deprecated"), True),
        (("waivers",), [{"id": "wv_1", "rule_ids": ["TP-EVIDENCE"]}]),
    ],
    "unwaivable": [
        (("version", "state"), "suspended"),
        (("waivers",), [{"id": "wv_1", "rule_ids": ["TP-STATE-SUSPENDED"]}]),
    ],
    "waivers malformed": [
        (("evidence", "missing"), ["owner"]),
        (("waivers",), [None, {"id": "wv_1", "rule_ids": "TP-EVIDENCE"}]),
    ],
    "document empty": [],
}


def _broken(changes: list[tuple[FactPath, Any]]) -> dict[str, Any]:
    if not changes:
        return {}
    doc: dict[str, Any] = plain.fixture(5)
    for path, value in changes:
        *parents, last = path
        target: Any = doc
        for key in parents:
            target = target[key]
        if value is DROP:
            del target[last]
        elif isinstance(target, list) and isinstance(last, int) and last == len(target):
            target.append(copy.deepcopy(value))
        else:
            target[last] = copy.deepcopy(value)
    return doc


def test_the_fixture_is_allowed_through_both_entrypoints() -> None:
    """As the engine asks: every file compiled, each entrypoint queried on its own."""
    interpreter = _interpreter(_sources())
    compiled = interpreter.build(None, [VIOLATIONS, ALLOW])
    assert compiled.ok(), "the default bundle does not compile"
    config = _data()["config"]
    for datasets in (1, 20):
        facts = plain.fixture(datasets)
        assert len(facts["lineage"]["datasets"]) == datasets
        interpreter.set_input(regopy.Input(facts))
        answers = [
            str(interpreter.query_bundle_entrypoint(compiled, e)) for e in (VIOLATIONS, ALLOW)
        ]
        assert answers == ['{"expressions":[[]]}', '{"expressions":[true]}']
        assert plain.decide(facts, config) == []
        assert plain.allowed(facts, config)


@pytest.mark.parametrize("name", list(BROKEN))
def test_the_plain_rules_agree_with_the_bundle(
    name: str, decision: Callable[[dict[str, Any]], tuple[list[dict[str, Any]], Any]]
) -> None:
    facts = _broken(BROKEN[name])
    config = _data()["config"]
    violations, allow = decision(facts)
    expected = plain.decide(facts, config)
    assert {v["id"] for v in expected} == {v["id"] for v in violations}
    assert expected == violations
    assert allow is plain.allowed(facts, config)
