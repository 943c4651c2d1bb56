"""The card's text rules: what "not recorded" means, and Markdown that entered text cannot
break out of (a table cell, a list item, an HTML tag)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from trustplane.evidence.card import (
    NOT_RECORDED,
    cell,
    code,
    fairness_by_group,
    line,
    md,
    shown,
    who,
)


def test_only_what_was_never_entered_is_not_recorded() -> None:
    for missing in (None, "", [], {}):
        assert shown(missing) == NOT_RECORDED
    assert [shown(v) for v in (0, 0.0, False, True, 0.1, 1e-05, 12)] == [
        "0",
        "0.0",
        "no",
        "yes",
        "0.1",
        "1e-05",
        "12",
    ]
    assert shown(["uk", "eu"]) == "uk, eu"
    assert shown({"b": [1, 2], "a": "x"}) == '{"a": "x", "b": [1, 2]}'


def test_markdown_shows_entered_text_literally() -> None:
    assert md("# title\n- item\n1. step\n> quote") == "\\# title\n\\- item\n1\\. step\n\\> quote"
    assert line("2) one\ntwo") == "2\\) one two"
    assert cell("a | b\n*c* <b>d</b> [e](f) `g` & h_i") == (
        "a \\| b \\*c\\* \\<b\\>d\\</b\\> \\[e\\](f) \\`g\\` \\& h\\_i"
    )
    assert cell("0.05") == "0.05"  # mid-line, a number is not a list marker
    assert cell(None) == NOT_RECORDED


def test_code_spans_and_people() -> None:
    assert code("sha256:ab") == "`sha256:ab`"
    assert code("a`b|c") == "``a`b\\|c``"
    assert code("`x`") == "`` `x` ``"
    assert code(None) == NOT_RECORDED
    assert who({"id": "pr_1", "name": "dana_k"}) == "dana\\_k (`pr_1`)"
    assert who({"id": "system", "name": None}) == "`system`"
    assert who(None) == NOT_RECORDED


def test_fairness_gaps_are_exact_differences_of_recorded_values() -> None:
    evaluations = [
        {"name": "auc", "metric": "auc", "group": None, "value": 0.9, "passed": True},
        {"name": "tpr-a", "metric": "tpr", "group": "a", "value": 0.8, "passed": True},
        {"name": "tpr-b", "metric": "tpr", "group": "b", "value": 0.62, "passed": True},
        {"name": "tpr-c", "metric": "tpr", "group": "c", "value": 0.91, "passed": False},
        {"name": "n-a", "metric": "count", "group": "a", "value": 10, "passed": True},
        {"name": "n-b", "metric": "count", "group": "b", "value": 7, "passed": True},
        {"name": "fpr-a", "metric": "fpr", "group": "a", "value": None, "passed": True},
        {"name": "fpr-b", "metric": "fpr", "group": "b", "value": 0.1, "passed": True},
    ]
    tpr, count, fpr = fairness_by_group(evaluations)
    assert [g["group"] for g in tpr["groups"]] == ["a", "b", "c"]
    assert tpr["largest_gap"] == 0.29  # 0.91 - 0.62 in binary is 0.29000000000000004
    assert (tpr["highest"], tpr["lowest"]) == (
        {"group": "c", "value": 0.91},
        {"group": "b", "value": 0.62},
    )
    assert count["largest_gap"] == 3 and isinstance(count["largest_gap"], int)
    assert (fpr["largest_gap"], fpr["highest"], fpr["lowest"]) == (None, None, None)
    assert fpr["groups"][0] == {
        "group": "a",
        "name": "fpr-a",
        "value": None,
        "threshold": None,
        "passed": True,
    }
    assert fairness_by_group(evaluations[:1]) == []


UNESCAPED = re.compile(r"(?<!\\)(?:\\\\)*[|<>`*_\[\]]")


@given(st.text())
def test_a_cell_stays_one_cell(text: str) -> None:
    """Whatever was entered, a cell is one line and no markup character is left unescaped."""
    rendered = cell(text)
    assert "\n" not in rendered and "\r" not in rendered
    assert not UNESCAPED.search(rendered)


@given(st.text())
def test_a_paragraph_starts_no_block(text: str) -> None:
    rendered = md(text)
    for row in re.split(r"\r\n|\r|\n", rendered):  # CommonMark line endings
        stripped = row.lstrip()
        assert not re.match(r"[#>+=-]|\d+[.)]", stripped), row
