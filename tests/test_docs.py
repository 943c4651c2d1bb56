"""Docs that restate code are checked against it, so they cannot drift."""

from __future__ import annotations

from pathlib import Path

from trustplane.identity.roles import ROLE_DESCRIPTIONS, ROLE_PERMISSIONS, Permission, Role

DOCS = Path(__file__).resolve().parent.parent / "docs"
BEGIN, END = "<!-- role-table:begin -->", "<!-- role-table:end -->"


def render_role_table() -> str:
    """Permissions down the side, roles across the top, a tick where the role holds it."""
    roles = list(Role)
    lines = [
        "| permission | " + " | ".join(r.value for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for perm in Permission:
        ticks = ["✓" if perm in ROLE_PERMISSIONS[r] else "" for r in roles]
        lines.append(f"| `{perm.value}` | " + " | ".join(ticks) + " |")
    return "\n".join(lines)


def test_access_control_doc_matches_the_role_table() -> None:
    text = (DOCS / "access-control.md").read_text(encoding="utf-8")
    block = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert block == render_role_table(), (
        "docs/access-control.md is out of date; replace the table with:\n" + render_role_table()
    )
    for role, description in ROLE_DESCRIPTIONS.items():
        assert f"`{role.value}`" in text and description in text
