"""The policy docs and the CI example restate code; check them against it."""

from __future__ import annotations

import re
from pathlib import Path

import typer
import yaml

from trustplane.cli.main import app
from trustplane.policy.bundle import DEFAULT_DIR, default

ROOT = Path(__file__).resolve().parents[2]
RULE_ID = re.compile(r'"(TP-[A-Z]+(?:-[A-Z]+)*)"')


def _rule_ids_in_rules() -> set[str]:
    found: set[str] = set()
    for path, source in default().modules.items():
        if not path.endswith("_test.rego"):
            found |= set(RULE_ID.findall(source))
    return found


def test_the_default_bundles_readme_lists_exactly_its_rules() -> None:
    readme = (DEFAULT_DIR / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(TP-[A-Z-]+)` \|", readme, re.MULTILINE))
    assert listed == _rule_ids_in_rules()


def test_the_policy_guide_lists_exactly_the_default_rules() -> None:
    guide = (ROOT / "docs/policies.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(TP-[A-Z-]+)` \|", guide, re.MULTILINE))
    assert listed == _rule_ids_in_rules()


def test_the_github_actions_example_uses_real_commands() -> None:
    workflow = yaml.safe_load(
        (ROOT / "examples/github-actions/release-gate.yml").read_text(encoding="utf-8")
    )
    runs = [
        step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step
    ]
    invocation = r"(?:^\s*|\$\()trustplane ([a-z-]+)(?: ([a-z-]+))?(?: ([a-z-]+))?"
    commands = re.findall(invocation, "\n".join(runs), re.MULTILINE)
    assert ("gate", "", "") in [(c[0], "", "") for c in commands]
    root = typer.main.get_command(app)
    for words in commands:
        command = root
        for word in (w for w in words if w):
            sub = getattr(command, "commands", {}).get(word)
            if sub is None:
                break  # an argument, not a subcommand
            command = sub
        assert command is not root, f"'trustplane {' '.join(words)}' is not a command"
    assert workflow["permissions"]["id-token"] == "write"
