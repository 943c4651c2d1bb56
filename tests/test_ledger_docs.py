"""The ledger docs restate formats and commands; these tests hold them to the code.

``docs/audit.md`` carries a worked example (verifier key, checkpoint, proofs, a leaf, a witness
line) that must verify with our own code, and a table of an event's members that must match
the event schema; ``docs/cli.md`` lists the audit commands with options that must be exactly
the ones each command takes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import rfc8785
import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from tests.test_docs import DOCS
from trustplane.audit import merkle, notes
from trustplane.audit.schemas import AuditEventRead
from trustplane.audit.verify import witness_claims
from trustplane.cli.main import app

FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.DOTALL)


def between(text: str, name: str) -> str:
    return text.split(f"<!-- {name}:begin -->", 1)[1].split(f"<!-- {name}:end -->", 1)[0]


def audit_doc() -> str:
    return (DOCS / "audit.md").read_text(encoding="utf-8")


def example() -> tuple[notes.Verifier, str, dict[str, Any], dict[str, Any]]:
    """The worked example's key, checkpoint note, inclusion proof and consistency proof."""
    key, note, inclusion, consistency = FENCE.findall(between(audit_doc(), "ledger-example"))
    return (
        notes.Verifier.from_key_string(key.strip()),
        note,
        json.loads(inclusion),
        json.loads(consistency),
    )


def b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def test_the_worked_example_verifies_end_to_end() -> None:
    verifier, note, inclusion, consistency = example()
    assert verifier.key_string().startswith("trustplane+b7646973+")
    checkpoint = notes.verify_checkpoint(note, verifier)
    leaf = inclusion["leaf"].encode("utf-8")
    assert b64(inclusion["leaf_hash"]) == merkle.leaf_hash(leaf)
    merkle.verify_inclusion(
        merkle.leaf_hash(leaf),
        inclusion["index"],
        inclusion["tree_size"],
        [b64(h) for h in inclusion["audit_path"]],
        b64(inclusion["root_hash"]),
    )
    assert (consistency["first"], consistency["first_root"]) == (
        inclusion["tree_size"],
        inclusion["root_hash"],
    )
    merkle.verify_consistency(
        consistency["first"],
        consistency["second"],
        [b64(h) for h in consistency["proof"]],
        b64(consistency["first_root"]),
        b64(consistency["second_root"]),
    )
    assert (checkpoint.size, checkpoint.root_hash) == (
        consistency["second"],
        b64(consistency["second_root"]),
    )
    event = json.loads(leaf)
    assert (event["seq"], event["id"]) == (inclusion["index"], inclusion["event_id"])
    assert checkpoint.origin.endswith("/ledger/" + event["tenant"])


def test_the_key_id_is_computed_as_documented() -> None:
    verifier, _, _, _ = example()
    digest = hashlib.sha256(verifier.name.encode() + b"\n" + b"\x01" + verifier.public_key).digest()
    assert verifier.key_id == int.from_bytes(digest[:4], "big")


def test_the_empty_root_is_as_documented() -> None:
    assert base64.b64encode(merkle.EMPTY_ROOT).decode() in audit_doc()


def test_the_example_leaf_is_canonical_and_has_the_documented_members() -> None:
    text = audit_doc()
    leaf_block = text.split("One leaf, as exported:", 1)[1]
    leaf = FENCE.findall(leaf_block)[0].strip().encode("utf-8")
    assert rfc8785.dumps(json.loads(leaf)) == leaf
    table = text.split("| member | JSON type |", 1)[1].split("\n\n", 1)[0]
    members = re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE)
    assert members == sorted(AuditEventRead.model_fields)
    assert sorted(json.loads(leaf)) == members
    _, _, inclusion, _ = example()
    assert sorted(json.loads(inclusion["leaf"])) == members


def test_the_witness_line_example_is_accepted() -> None:
    verifier, note, _, _ = example()
    section = audit_doc().split("## Witness files", 1)[1]
    line = FENCE.findall(section)[0].strip()
    record = json.loads(line)
    assert list(record) == ["origin", "size", "note"] and record["note"] == note
    [claim] = witness_claims([line], verifier, record["origin"])
    assert claim.problem is None and claim.size == record["size"]


def audit_commands() -> dict[str, Any]:
    """Every audit command as ``audit <verb>`` or ``audit proof <verb>``."""
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    found: dict[str, Any] = {}

    def walk(command: Any, path: str) -> None:
        if isinstance(command, TyperGroup):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}")
        else:
            found[path] = command

    walk(group.commands["audit"], "audit")
    return found


def test_the_cli_reference_lists_every_audit_command_with_its_options() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \|", between(text, "audit-commands"), re.MULTILINE)
    commands = audit_commands()
    documented: dict[str, str] = {}
    for row in rows:
        words = re.match(r"[a-z -]+?(?= [A-Z\[(-]|$)", row)
        assert words is not None, row
        documented[words[0]] = row
    assert set(documented) == set(commands) - {"audit events"}  # events: the main table
    for path, row in documented.items():
        options = {
            name
            for param in commands[path].params
            if isinstance(param, TyperOption)
            for name in param.opts
            if name.startswith("--") and name != "--help"
        }
        arguments = [p.name for p in commands[path].params if isinstance(p, TyperArgument)]
        assert set(re.findall(r"--[a-z-]+", row)) == options, path
        assert len(re.findall(r"\b[A-Z]{2,}\b", row.split("--")[0])) == len(arguments), path
