"""How the CLI shows what the policy said: the verdict, violations, waivers, missing sign-offs.

Shared by the policy, gate, sign-off and lifecycle commands, so a denial reads the same
wherever it comes from: each violation with its remediation and the role that owns the fix.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from trustplane.cli.context import describe, when
from trustplane.cli.output import EXIT_DENIED, console, emit_json, fail, table
from trustplane.client import TrustplaneAPIError
from trustplane.client.policy_models import (
    DecisionRead,
    PolicyTestReport,
    SignoffNeed,
    ViolationRead,
)


def show_reasons(
    violations: Sequence[ViolationRead],
    waived: Sequence[ViolationRead],
    missing: Sequence[SignoffNeed],
) -> None:
    """Tables of what stands in the way, what was waived (and by which waiver), and who
    still has to sign off."""
    if violations:
        broken = [(v.id, v.message, v.remediation, v.owner_role) for v in violations]
        table("Violations", ["rule", "message", "remediation", "owner role"], broken)
    if waived:
        covered = [(v.id, v.waiver_id, v.message) for v in waived]
        table("Waived violations", ["rule", "waiver", "message"], covered)
    if missing:
        needed = [(m.role, m.rule_id, m.message) for m in missing]
        table("Missing sign-offs", ["route to role", "rule", "message"], needed)


def verdict(decision: DecisionRead) -> str:
    """One line: allowed or denied, where, and which decision and bundle said so."""
    word = "[bold green]allowed[/]" if decision.allowed else "[bold red]denied[/]"
    where = f" in {decision.environment}" if decision.environment else ""
    recorded = f"decision {decision.id}" if decision.id else "not recorded"
    return (
        f"{word}: {decision.checkpoint}{where} ({recorded}, bundle {decision.bundle_digest},"
        f" {decision.duration_ms:g} ms)"
    )


def show_decision(decision: DecisionRead, subject: str | None = None) -> None:
    """The verdict line and the reasons behind it."""
    if subject:
        console.print(subject, highlight=False, markup=False)
    console.print(verdict(decision), highlight=False)
    show_reasons(decision.violations, decision.waived, decision.missing_signoffs)


def show_decision_details(decision: DecisionRead) -> None:
    """A recorded decision: who, when, what over, then its reasons."""
    show_decision(decision)
    rows = [
        ("model version", decision.model_version_id),
        ("actor", decision.actor_id),
        ("at", when(decision.at)),
        ("input digest", decision.input_digest),
        ("audit event", decision.event_id),
    ]
    table("Decision", ["field", "value"], rows)


def show_test_report(report: PolicyTestReport, source: str | None = None) -> None:
    """The bundle's tests, one row each, and a summary line (compile errors included)."""
    if report.tests:
        rows = [(t.name, "pass" if t.passed else "FAIL", t.error or "") for t in report.tests]
        table("Policy tests", ["test", "result", "error"], rows)
    where = f" ({source})" if source else ""
    if not report.compiled:
        console.print(f"[bold red]not compiled, no test run[/]{where}", highlight=False)
    else:
        console.print(
            f"{report.passed} passed, {report.failed} failed{where}; digest {report.digest}",
            highlight=False,
        )


@contextmanager
def policy_denials(as_json: bool) -> Iterator[None]:
    """Show a policy denial in full (not only its one-line detail), then exit 1.

    Other errors pass through to the caller's ``connect``. With ``--json`` the problem
    document (violations, waived, missing sign-offs, decision id) is printed on stdout.
    """
    try:
        yield
    except TrustplaneAPIError as exc:
        denial = exc.policy_denial
        if denial is None:
            raise
        if as_json:
            emit_json(
                {
                    "type": exc.type,
                    "title": exc.title,
                    "status": exc.status,
                    "detail": exc.detail,
                    "correlation_id": exc.correlation_id,
                    **exc.extra,
                }
            )
        else:
            show_reasons(denial.violations, denial.waived, denial.missing_signoffs)
            if denial.decision_id:
                console.print(f"decision {denial.decision_id}", highlight=False)
        fail(describe(exc), EXIT_DENIED)
