"""The engine fails closed: every way an evaluation can go wrong is a denial that says why."""

from __future__ import annotations

from typing import Any

import pytest

from trustplane.policy.bundle import Bundle, BundleError, digest_of, from_files
from trustplane.policy.engine import ENGINE_RULE, UNNAMED_RULE, Engine, explain_error
from trustplane.policy.sandbox import check

HEAD = "package trustplane.decision\nimport rego.v1\n"

#: Denies a low score, waivable; honours waivers in its own ``allow`` as the contract asks.
SCORING = (
    HEAD
    + """
violations contains v if {
    input.score < 1
    v := {"id": "LOW", "message": "score too low", "remediation": "raise it", "owner_role": "x"}
}
violations contains v if {
    not is_number(input.score)
    v := {"id": "MISSING", "message": "no score", "remediation": "add one", "owner_role": "x"}
}
waived_ids contains id if { some w in input.waivers; some id in w.rule_ids }
allow if { every v in violations { v.id in waived_ids } }
default allow := false
"""
)


def bundle(source: str, **extra: str) -> Bundle:
    return from_files({"policy.rego": source, **extra})


@pytest.fixture
def engine() -> Engine:
    return Engine(timeout_seconds=2.0)


def ids(items: list[Any]) -> list[str]:
    return [v.id for v in items]


def test_allows_and_denies_with_reasons(engine: Engine) -> None:
    b = bundle(SCORING)
    assert engine.evaluate(b, {"score": 3}).allowed
    denied = engine.evaluate(b, {"score": 0})
    assert not denied.allowed
    assert ids(denied.violations) == ["LOW"]
    assert denied.violations[0].remediation == "raise it"
    assert ids(engine.evaluate(b, {}).violations) == ["MISSING"]


def test_a_valid_waiver_moves_its_violation_to_waived(engine: Engine) -> None:
    waiver = {"id": "wv_1", "rule_ids": ["LOW"]}
    outcome = engine.evaluate(bundle(SCORING), {"score": 0, "waivers": [waiver]})
    assert outcome.allowed
    assert outcome.violations == []
    assert [(v.id, v.waiver_id) for v in outcome.waived] == [("LOW", "wv_1")]


def test_a_rule_the_data_makes_unwaivable_stays_a_violation(engine: Engine) -> None:
    data = '{"config": {"waivers": {"unwaivable": ["LOW"]}}}'
    waiver = {"id": "wv_1", "rule_ids": ["LOW"]}
    outcome = engine.evaluate(
        bundle(SCORING, **{"data.json": data}), {"score": 0, "waivers": [waiver]}
    )
    assert not outcome.allowed  # the bundle's allow said yes; the engine refuses the waiver
    assert "LOW" in ids(outcome.violations)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (HEAD + "violations := set()\n", "'trustplane/decision/allow'"),
        (HEAD + "allow := true\n", "'trustplane/decision/violations'"),
        (HEAD + 'violations := set()\nallow := "yes"\n', "not a boolean"),
        (HEAD + "violations := {1}\nallow := false\n", "no string 'id'"),
        (HEAD + 'violations := "none"\nallow := true\n', "not a set"),
        (HEAD + "violations := set()\nallow := x if { x := 1 / 0 }\n", "allow"),
        (
            HEAD + "violations := set()\nallow := true if input.a\nallow := false if input.a\n",
            "allow",
        ),
    ],
    ids=[
        "no-allow",
        "no-violations",
        "non-boolean",
        "id-less",
        "not-a-set",
        "division",
        "conflict",
    ],
)
def test_engine_failures_deny_and_say_why(engine: Engine, source: str, reason: str) -> None:
    outcome = engine.evaluate(bundle(source), {"a": True})
    assert not outcome.allowed
    assert ids(outcome.violations) == [ENGINE_RULE]
    assert reason in outcome.violations[0].message
    assert outcome.engine_error


def test_allow_true_beside_an_unwaived_violation_is_a_denial(engine: Engine) -> None:
    source = HEAD + 'violations := {{"id": "X", "message": "m"}}\nallow := true\n'
    outcome = engine.evaluate(bundle(source), {})
    assert not outcome.allowed
    assert ids(outcome.violations) == ["X", ENGINE_RULE]


def test_a_denial_without_a_violation_names_itself(engine: Engine) -> None:
    outcome = engine.evaluate(bundle(HEAD + "violations := set()\nallow := false\n"), {})
    assert not outcome.allowed
    assert ids(outcome.violations) == [UNNAMED_RULE]


def test_a_slow_policy_times_out_into_a_denial() -> None:
    slow = HEAD + "violations := set()\nallow if { count(numbers.range(1, 1000000)) > input.n }\n"
    outcome = Engine(timeout_seconds=0.05).evaluate(bundle(slow), {"n": 1})
    assert not outcome.allowed
    assert "longer than 0.05 s" in outcome.violations[0].message


def test_facts_the_engine_cannot_take_are_a_denial(engine: Engine) -> None:
    outcome = engine.evaluate(bundle(SCORING), {"score": object()})
    assert not outcome.allowed
    assert ids(outcome.violations) == [ENGINE_RULE]
    assert "engine failed" in outcome.violations[0].message


def test_a_bundle_that_does_not_compile_is_a_denial(engine: Engine) -> None:
    outcome = engine.evaluate(bundle(HEAD + "allow if {\n  input.x ==\n}\n"), {})
    assert not outcome.allowed
    assert "policy.rego:4:11" in outcome.violations[0].message


def test_the_sandbox_reports_compile_errors_with_file_line_and_column() -> None:
    report = check(from_files({"rules/a.rego": HEAD + "\nallow if {\n  input.x ==\n}\n"}))
    assert not report.ok
    assert report.error == "rules/a.rego:5:11: Invalid boolean operator"


def test_the_sandbox_survives_an_engine_crash() -> None:
    # A `with` modifier over a builtin call crashes rego-cpp (measured with regopy 1.5.2).
    source = HEAD + (
        "violations := set()\nallow := true\nlow if { input.score < 1 }\n"
        'test_low if { low with input as {"score": 0} }\n'
    )
    report = check(bundle(source))
    assert not report.ok
    assert report.error is not None
    assert "crashed" in report.error


def test_the_sandbox_runs_every_test_rule() -> None:
    source = SCORING + (
        "test_passes if { count(violations) == 0 }\n"  # input is empty: MISSING fires
        "test_fails if { false }\n"
        "test_ok if { true }\n"
    )
    report = check(bundle(source))
    assert report.compiled and report.error is None
    assert {t.name: t.passed for t in report.tests} == {
        "trustplane.decision.test_passes": False,
        "trustplane.decision.test_fails": False,
        "trustplane.decision.test_ok": True,
    }


def test_the_digest_is_canonical() -> None:
    a = {"b.rego": "x", "a.rego": "y", "data.json": "{}"}
    assert digest_of(a) == digest_of(dict(reversed(list(a.items()))))
    assert digest_of(a) != digest_of({**a, "b.rego": "x "})
    assert digest_of(a).startswith("sha256:") and len(digest_of(a)) == 71


@pytest.mark.parametrize(
    "files",
    [
        {},
        {"data.json": "{}"},
        {"../evil.rego": HEAD},
        {"/abs.rego": HEAD},
        {"a.py": "print()"},
        {"a.rego": HEAD, "data.json": "[1]"},
        {"a.rego": HEAD, "data.json": "{"},
        {"sub/data.json": "{}", "a.rego": HEAD},
    ],
)
def test_files_that_are_not_a_bundle_are_refused(files: dict[str, str]) -> None:
    with pytest.raises(BundleError):
        from_files(files)


def test_explain_error_reads_the_message_without_a_bundle() -> None:
    text = "(error 12:a.rego|3|1\n    (errormsg 9:Bad thing)\n)"
    assert explain_error(text) == "Bad thing"
