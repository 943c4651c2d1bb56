"""Completeness rules: the evidence a model version needs before it may leave draft.

Pure: the caller gathers the facts (:class:`Evidence`) and the tenant's overrides; this module
says what is required for a risk tier and what is missing. Defaults live here, in code; a
tenant may replace the set of any tier (stored in ``completeness_rules``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Item(StrEnum):
    """One piece of evidence, named as the answer lists it when missing."""

    OWNER = "owner"  # the model names an owner
    INTENDED_USE = "intended_use"  # the model states its intended use
    RISK_TIER = "risk_tier"  # the model has a risk tier
    PRODUCING_RUN = "producing_run"  # the version names the run that produced it
    DATASET_VERSIONS = "dataset_versions"  # that run read at least one dataset version
    APPROVED_DATASETS = "approved_datasets"  # every dataset version it read is approved
    CODE_COMMIT = "code_commit"  # that run names its code commit
    ENV_FINGERPRINT = "env_fingerprint"  # that run names its environment (lockfile, image)
    METRICS = "metrics"  # the version (or its run) reports metrics
    EVALUATIONS = "evaluations"  # the version carries named evaluation results
    EVALUATIONS_PASSED = "evaluations_passed"  # and every one of them passed
    OUT_OF_SCOPE_USES = "out_of_scope_uses"  # the model states what it must not be used for


RISK_TIERS: tuple[str, ...] = ("low", "medium", "high", "critical")

_LOW = (Item.OWNER, Item.INTENDED_USE, Item.RISK_TIER, Item.PRODUCING_RUN, Item.CODE_COMMIT)
_MEDIUM = (*_LOW, Item.DATASET_VERSIONS, Item.ENV_FINGERPRINT, Item.METRICS)
_HIGH = (*_MEDIUM, Item.EVALUATIONS, Item.OUT_OF_SCOPE_USES)
_CRITICAL = (*_HIGH, Item.APPROVED_DATASETS, Item.EVALUATIONS_PASSED)

DEFAULT_RULES: dict[str, tuple[Item, ...]] = {
    "low": _LOW,
    "medium": _MEDIUM,
    "high": _HIGH,
    "critical": _CRITICAL,
}

#: A model without a risk tier is held to the strictest set (fail closed); ``risk_tier`` is in
#: every default set, so it is reported missing too.
UNKNOWN_TIER = "critical"


@dataclass(frozen=True, slots=True)
class Evidence:
    """The facts about one model version, gathered by the caller."""

    risk_tier: str | None
    owner: bool
    intended_use: bool
    out_of_scope_uses: bool
    producing_run: bool
    dataset_versions: int
    unapproved_datasets: int
    code_commit: bool
    env_fingerprint: bool
    metrics: bool
    evaluations: int
    failed_evaluations: int

    def present(self) -> set[Item]:
        facts = {
            Item.OWNER: self.owner,
            Item.INTENDED_USE: self.intended_use,
            Item.RISK_TIER: self.risk_tier is not None,
            Item.PRODUCING_RUN: self.producing_run,
            Item.DATASET_VERSIONS: self.dataset_versions > 0,
            Item.APPROVED_DATASETS: self.dataset_versions > 0 and self.unapproved_datasets == 0,
            Item.CODE_COMMIT: self.code_commit,
            Item.ENV_FINGERPRINT: self.env_fingerprint,
            Item.METRICS: self.metrics,
            Item.EVALUATIONS: self.evaluations > 0,
            Item.EVALUATIONS_PASSED: self.evaluations > 0 and self.failed_evaluations == 0,
            Item.OUT_OF_SCOPE_USES: self.out_of_scope_uses,
        }
        return {item for item, ok in facts.items() if ok}


@dataclass(frozen=True, slots=True)
class Report:
    risk_tier: str | None
    required: list[str]
    present: list[str]
    missing: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing


def parse_items(names: list[str]) -> list[Item]:
    """Validate a tenant's rule: known item names, no duplicates; raises ValueError."""
    known = {i.value for i in Item}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(
            f"unknown evidence item(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    if len(set(names)) != len(names):
        raise ValueError("an evidence item is listed twice")
    return [Item(n) for n in names]


def required_for(tier: str | None, overrides: dict[str, list[str]]) -> list[Item]:
    """The evidence ``tier`` requires: the tenant's override if any, else the default."""
    key = tier if tier in DEFAULT_RULES else UNKNOWN_TIER
    if key in overrides:
        return parse_items(overrides[key])
    return list(DEFAULT_RULES[key])


def check(evidence: Evidence, overrides: dict[str, list[str]]) -> Report:
    """What ``evidence`` lacks for its risk tier, in the order the rule lists it."""
    required = required_for(evidence.risk_tier, overrides)
    have = evidence.present()
    return Report(
        risk_tier=evidence.risk_tier,
        required=[i.value for i in required],
        present=[i.value for i in required if i in have],
        missing=[i.value for i in required if i not in have],
    )
