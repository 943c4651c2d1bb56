"""How the CLI speaks: Rich tables for people, JSON for machines, one-line errors on stderr."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

EXIT_OK = 0
EXIT_DENIED = 1  # denied, or a check failed
EXIT_USAGE = 2  # usage or input error

console = Console()
err_console = Console(stderr=True)


def emit_json(value: Any) -> None:
    """Print ``value`` as JSON on stdout (pydantic models are dumped in JSON mode)."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    elif isinstance(value, list):
        value = [v.model_dump(mode="json") if hasattr(v, "model_dump") else v for v in value]
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column, overflow="fold")  # never cut ids with an ellipsis
    for row in rows:
        grid.add_row(*("" if v is None else str(v) for v in row))
    console.print(grid)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one line on stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def exit_on_failures(ok: bool, failures: list[str], as_json: bool) -> None:
    """Failures on stderr, the first one (the first bad leaf or check) first; exit 1."""
    if ok:
        return
    if not as_json:
        err_console.print(
            f"[bold red]error:[/] {escape(failures[0])}", highlight=False, soft_wrap=True
        )
        for line in failures[1:]:
            err_console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_DENIED)
