"""Model cards rendered from card facts (see :mod:`trustplane.evidence.cards`): pure, no I/O.

Also the one derived value a card shows, the fairness gap by group (:func:`fairness_by_group`).

The renderers only show what the facts hold. A value that was never recorded (None, an empty
string, list or map) shows as "not recorded"; numbers are printed as recorded, never rounded.
Markdown escapes every entered text so that it cannot become markup (a table cell, a heading,
an HTML tag); HTML is autoescaped and carries no script and no external asset.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

NOT_RECORDED = "not recorded"

_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
_LINE_START = re.compile(r"^(\s*)([#+=-]|\d+[.)])", re.MULTILINE)
_NEWLINES = re.compile(r"\r\n?")  # CommonMark ends lines at CR too


def shown(value: Any) -> str:
    """A recorded value as text; "not recorded" for what was never entered."""
    if value is None or value == "" or value == [] or value == {}:
        return NOT_RECORDED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def person(value: Mapping[str, Any] | None) -> str:
    """``name (id)`` of a principal, the id alone when no name was recorded."""
    if not value or not value.get("id"):
        return NOT_RECORDED
    name = value.get("name")
    return f"{name} ({value['id']})" if name and name != value["id"] else str(value["id"])


def escape_markdown(text: str, *, starts_line: bool = True) -> str:
    """Escape text so Markdown shows it literally (CommonMark backslash escapes).

    ``starts_line``: the text begins a line (a paragraph, a list item, a heading), where a
    leading ``#``, ``-`` or ``1.`` would make a block; mid-line only inline marks matter.
    """
    escaped = _INLINE.sub(r"\\\1", _NEWLINES.sub("\n", text))
    return _LINE_START.sub(_escape_block_marker, escaped) if starts_line else escaped


def _escape_block_marker(match: re.Match[str]) -> str:
    marker = match.group(2)
    return match.group(1) + (marker[:-1] + "\\" + marker[-1] if len(marker) > 1 else "\\" + marker)


def md(value: Any) -> str:
    """A value as a Markdown paragraph of its own."""
    return escape_markdown(shown(value))


def line(value: Any) -> str:
    """A value that starts a Markdown line (a list item, a heading): one line."""
    return " ".join(md(value).split())


def cell(value: Any) -> str:
    """A value inside a Markdown line or table cell: one line, pipes escaped."""
    return " ".join(escape_markdown(shown(value), starts_line=False).split())


def who(value: Mapping[str, Any] | None) -> str:
    """A principal in Markdown: the name, and the id as code."""
    if not value or not value.get("id"):
        return NOT_RECORDED
    name = value.get("name")
    if not name or name == value["id"]:
        return code(value["id"])
    return f"{cell(name)} ({code(value['id'])})"


def code(value: Any) -> str:
    """An id or digest as a Markdown code span, safe in a table cell."""
    if value is None or value == "":
        return NOT_RECORDED
    text = " ".join(str(value).split()).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def pairs(value: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    """A recorded map as (key, value) pairs in key order (stable on every backend)."""
    return sorted((value or {}).items())


def fairness_by_group(evaluations: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The evaluations that name a group, one table per metric (in the order recorded), each
    with the highest and lowest recorded values and the largest gap between them.

    The gap is the exact decimal difference of the values as recorded (0.91 - 0.62 is 0.29,
    not 0.29000000000000004); with fewer than two numeric values there is none (None).
    """
    by_metric: dict[Any, list[Mapping[str, Any]]] = {}
    for e in evaluations:
        if e.get("group") is not None:
            by_metric.setdefault(e.get("metric"), []).append(e)
    return [_fairness_table(metric, rows) for metric, rows in by_metric.items()]


def _fairness_table(metric: Any, rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    numbers = sorted((r for r in rows if _is_number(r.get("value"))), key=lambda r: r["value"])
    low, high = (numbers[0], numbers[-1]) if len(numbers) >= 2 else (None, None)
    return {
        "metric": metric,
        "groups": [
            {k: r.get(k) for k in ("group", "name", "value", "threshold", "passed")} for r in rows
        ],
        "highest": {"group": high["group"], "value": high["value"]} if high else None,
        "lowest": {"group": low["group"], "value": low["value"]} if low else None,
        "largest_gap": _difference(high["value"], low["value"]) if high and low else None,
    }


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _difference(high: float, low: float) -> int | float:
    gap = Decimal(repr(high)) - Decimal(repr(low))
    return int(gap) if isinstance(high, int) and isinstance(low, int) else float(gap)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("trustplane.evidence", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        shown=shown, person=person, md=md, line=line, cell=cell, code=code, who=who, pairs=pairs
    )
    env.globals["NOT_RECORDED"] = NOT_RECORDED
    return env


_ENV = _environment()


def render_markdown(facts: Mapping[str, Any]) -> str:
    """The card as Markdown (GitHub-flavoured tables)."""
    return _ENV.get_template("model_card.md.j2").render(card=facts)


def render_html(facts: Mapping[str, Any]) -> str:
    """The card as one self-contained HTML page."""
    return _ENV.get_template("model_card.html.j2").render(card=facts)
