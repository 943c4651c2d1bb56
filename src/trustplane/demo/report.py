"""What the demo tells a person: the steps as they happen, then how to explore the result.

The scenario reports through :class:`Reporter`; the command decides where the lines go (the
terminal, or nowhere when it prints JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trustplane.client.policy_models import ViolationRead
from trustplane.demo.cast import ACME, ADMIN, MEMBERS

Say = Callable[[str], None]


class Reporter:
    """Numbered steps with indented details; silent when ``say`` is None."""

    def __init__(self, say: Say | None) -> None:
        self._say = say
        self._step = 0

    def step(self, title: str) -> None:
        self._step += 1
        self._emit("")
        self._emit(f"{self._step}. {title}")

    def line(self, text: str) -> None:
        self._emit(f"   {text}")

    def violations(self, items: Sequence[ViolationRead], *, waived: bool = False) -> None:
        for v in items:
            mark = f" (waived by {v.waiver_id})" if waived and v.waiver_id else ""
            self.line(f"- {v.id}{mark}: {v.message}")
            if v.remediation and not waived:
                self.line(f"  fix: {v.remediation} (owner: {v.owner_role or 'n/a'})")

    def _emit(self, text: str) -> None:
        if self._say is not None:
            self._say(text)


def explore(summary: Mapping[str, Any], url: str, say: Say) -> None:
    """The tokens the demo issued and commands to look at what it did."""
    jobs = {m.name: m.job for m in MEMBERS}
    say("")
    say(f"Tokens of tenant {ACME} (each a different principal and role; shown once):")
    say(f"  {ADMIN:<12} {summary['token']}  (tenant admin)")
    for name, token in summary.get("tokens", {}).items():
        say(f"  {name:<12} {token}  ({jobs.get(name, '')})")
    other = summary.get("isolation", {})
    if other.get("token"):
        say(f"Tenant {other['tenant']}: admin {other['token']}")
    say("")
    say("Explore it (in another terminal, once the server runs):")
    for command in _commands(summary, url):
        say(f"  {command}")
    files = summary.get("files", {})
    if files:
        say("")
        say(f"Files written under {summary.get('folder', 'the demo folder')}/:")
        for name in files:
            say(f"  {name}")


def _commands(summary: Mapping[str, Any], url: str) -> list[str]:
    released = summary.get("released", {})
    model, version = released.get("model", "credit-default"), released.get("version", 1)
    release = released.get("release") or "<release id>"
    evidence = summary.get("evidence") or {}
    commands = [
        f"export TRUSTPLANE_URL={url} TRUSTPLANE_TOKEN={summary['token']}",
        f"trustplane model history {model}",
        "trustplane decisions list --denied",
        f"trustplane policy eval --model {model} --version {version} --target prod",
        "trustplane waivers list",
        f"trustplane model approvals {model} {version}",
        f"trustplane releases list --model {model}",
        f"trustplane releases show {release}",
        f"trustplane model card --version {model}@{version}",
        f"trustplane lineage upstream {released.get('version_id', '<version id>')}",
        f"trustplane lineage impact {summary.get('flagged', {}).get('node', '<dataset>')}",
        "trustplane audit events --outcome denied",
        "trustplane audit checkpoint",
    ]
    if evidence.get("bundle") and released.get("artifact"):
        commands.append(
            f"trustplane evidence verify {evidence['bundle']} --key {evidence['public_key']}"
            f" --artifact {released['artifact']}"
        )
    if released.get("release"):  # offline, from the database's ledger export
        commands += [
            f"trustplane audit export acme-ledger/ --tenant {summary.get('tenant', 'acme-bank')}",
            f"trustplane reconstruct --release {released['release']} --from acme-ledger/",
        ]
    return commands
