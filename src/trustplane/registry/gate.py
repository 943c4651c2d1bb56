"""The one seam where a lifecycle transition asks "may this happen?".

A :class:`TransitionGate` receives the facts of a requested transition and answers with a
:class:`Verdict`. Today :class:`DefaultGate` checks the actor's permission for the action (in
the target environment where there is one) and the completeness rules for leaving draft. The
policy engine will implement the same protocol (evaluating Rego over these facts) and be
chained after the default gate; nothing else in the lifecycle needs to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from trustplane.identity.actor import Actor
from trustplane.registry.completeness import Report
from trustplane.registry.lifecycle import PERMISSION_OF, Action, State

Refusal = Literal["forbidden", "incomplete", "denied"]


@dataclass(frozen=True, slots=True)
class TransitionFacts:
    """Everything a gate may look at; plain values, so a policy engine can serialise them."""

    actor: Actor
    action: Action
    model_id: str
    model_version_id: str
    artifact_digest: str
    risk_tier: str | None
    from_state: State
    to_state: State
    environment_id: str | None
    environment: str | None
    intent: str
    replaces: str | None
    completeness: Report | None  # read only when leaving draft; None for other transitions


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    refusal: Refusal | None = None
    detail: str = ""
    missing: list[str] = field(default_factory=list)


ALLOW = Verdict(allowed=True)


class TransitionGate(Protocol):
    def may(self, facts: TransitionFacts) -> Verdict: ...


class DefaultGate:
    """Permissions per action and environment, then completeness when leaving draft."""

    def may(self, facts: TransitionFacts) -> Verdict:
        permission = PERMISSION_OF[facts.action]
        if not facts.actor.can(permission, facts.environment_id):
            where = f" in environment '{facts.environment}'" if facts.environment else ""
            return Verdict(
                False, "forbidden", f"'{facts.actor.name}' lacks permission '{permission}'{where}"
            )
        report = facts.completeness
        if facts.from_state is not State.DRAFT:
            return ALLOW
        if report is None:  # fail closed: leaving draft is never allowed unchecked
            return Verdict(False, "incomplete", "the version's evidence was not checked")
        if not report.complete:
            missing = report.missing
            return Verdict(
                False,
                "incomplete",
                f"the version cannot leave draft: missing evidence {', '.join(missing)}"
                f" (risk tier {report.risk_tier or 'not set'})",
                list(missing),
            )
        return ALLOW


@dataclass(frozen=True, slots=True)
class ChainedGate:
    """Asks each gate in turn; the first refusal wins (how a policy gate will be added)."""

    gates: Sequence[TransitionGate]

    def may(self, facts: TransitionFacts) -> Verdict:
        for gate in self.gates:
            verdict = gate.may(facts)
            if not verdict.allowed:
                return verdict
        return ALLOW


DEFAULT_GATE: TransitionGate = DefaultGate()
