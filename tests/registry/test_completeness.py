"""Completeness rules: what each risk tier requires, tenant overrides, and the exact answer."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from trustplane.registry.completeness import (
    DEFAULT_RULES,
    UNKNOWN_TIER,
    Evidence,
    Item,
    check,
    parse_items,
    required_for,
)

FULL = Evidence(
    risk_tier="critical",
    owner=True,
    intended_use=True,
    out_of_scope_uses=True,
    producing_run=True,
    dataset_versions=2,
    unapproved_datasets=0,
    code_commit=True,
    env_fingerprint=True,
    metrics=True,
    evaluations=3,
    failed_evaluations=0,
)
NOTHING = Evidence(
    risk_tier=None,
    owner=False,
    intended_use=False,
    out_of_scope_uses=False,
    producing_run=False,
    dataset_versions=0,
    unapproved_datasets=0,
    code_commit=False,
    env_fingerprint=False,
    metrics=False,
    evaluations=0,
    failed_evaluations=0,
)


def test_tiers_are_nested_and_stricter_upwards() -> None:
    tiers = ["low", "medium", "high", "critical"]
    for lower, higher in itertools.pairwise(tiers):
        assert set(DEFAULT_RULES[lower]) < set(DEFAULT_RULES[higher])


def test_the_issue_evidence_is_required_from_medium_up() -> None:
    issue = {
        Item.DATASET_VERSIONS,
        Item.CODE_COMMIT,
        Item.ENV_FINGERPRINT,
        Item.METRICS,
        Item.OWNER,
        Item.INTENDED_USE,
        Item.RISK_TIER,
    }
    for tier in ("medium", "high", "critical"):
        assert issue <= set(DEFAULT_RULES[tier]), tier


@pytest.mark.parametrize("tier", ["low", "medium", "high", "critical"])
def test_full_evidence_is_complete_for_every_tier(tier: str) -> None:
    report = check(replace(FULL, risk_tier=tier), {})
    assert report.complete
    assert report.missing == []
    assert report.present == report.required


@pytest.mark.parametrize(
    ("tier", "missing"),
    [
        ("low", ["owner", "intended_use", "producing_run", "code_commit"]),
        (
            "medium",
            [
                "owner",
                "intended_use",
                "producing_run",
                "code_commit",
                "dataset_versions",
                "env_fingerprint",
                "metrics",
            ],
        ),
    ],
)
def test_missing_lists_exactly_what_the_tier_requires(tier: str, missing: list[str]) -> None:
    report = check(replace(NOTHING, risk_tier=tier), {})
    assert report.missing == missing
    assert not report.complete


def test_no_risk_tier_is_held_to_the_strictest_rule() -> None:
    report = check(NOTHING, {})
    assert report.required == [i.value for i in DEFAULT_RULES[UNKNOWN_TIER]]
    assert "risk_tier" in report.missing


def test_high_and_critical_need_evaluations_critical_needs_them_passed() -> None:
    failing = replace(FULL, failed_evaluations=1, unapproved_datasets=1)
    assert check(replace(failing, risk_tier="high"), {}).complete
    report = check(replace(failing, risk_tier="critical"), {})
    assert report.missing == ["approved_datasets", "evaluations_passed"]
    no_evals = replace(FULL, risk_tier="high", evaluations=0)
    assert check(no_evals, {}).missing == ["evaluations"]


def test_a_tenant_override_replaces_the_default_for_its_tier_only() -> None:
    overrides = {"low": ["owner", "metrics"]}
    assert required_for("low", overrides) == [Item.OWNER, Item.METRICS]
    assert required_for("medium", overrides) == list(DEFAULT_RULES["medium"])
    report = check(replace(NOTHING, risk_tier="low", owner=True), overrides)
    assert report.missing == ["metrics"]


def test_rule_items_are_validated() -> None:
    with pytest.raises(ValueError, match=r"unknown evidence item.*shoe_size"):
        parse_items(["owner", "shoe_size"])
    with pytest.raises(ValueError, match="twice"):
        parse_items(["owner", "owner"])
    assert parse_items([]) == []
