"""How client commands reach the API: global options, the SDK client, and error reporting.

Every client command opens the SDK with ``with connect(ctx) as tp:``; an API error becomes
one line on stderr and an exit code (1 denied or failed, 2 usage or input error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import typer

from trustplane.cli.output import EXIT_DENIED, EXIT_USAGE, console, emit_json, fail
from trustplane.client import (
    DEFAULT_URL,
    ConnectionFailed,
    NotFound,
    PayloadTooLarge,
    TrustplaneAPIError,
    TrustplaneClient,
    TrustplaneClientError,
    ValidationFailed,
)
from trustplane.client.models import ApiModel, Page

JSON_HELP = "Print the JSON the API returned."


@dataclass(frozen=True)
class Connection:
    """The global options, kept on the root context for the subcommands."""

    url: str
    token: str | None = field(repr=False)
    correlation_id: str | None = None


def default_factory(url: str, token: str, correlation_id: str | None) -> TrustplaneClient:
    return TrustplaneClient(url, token, correlation_id=correlation_id)


#: Builds the SDK client; tests replace it to talk to an in-process app.
client_factory: Callable[[str, str, str | None], TrustplaneClient] = default_factory


def global_options(
    ctx: typer.Context,
    url: str = typer.Option(
        DEFAULT_URL, "--url", envvar="TRUSTPLANE_URL", help="Trustplane server URL."
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="TRUSTPLANE_TOKEN",
        show_default=False,
        help="API token (prefer the environment variable: arguments show in process lists).",
    ),
    correlation_id: str | None = typer.Option(
        None, "--correlation-id", help="Recorded on the audit events of this command's calls."
    ),
) -> None:
    """Trustplane: governance control plane for MLOps."""
    ctx.obj = Connection(url=url, token=token or None, correlation_id=correlation_id)


def _connection(ctx: typer.Context) -> Connection:
    obj = ctx.find_root().obj
    if isinstance(obj, Connection):
        return obj
    return Connection(url=DEFAULT_URL, token=None)


@contextmanager
def connect(ctx: typer.Context) -> Iterator[TrustplaneClient]:
    """The SDK client for this command; API errors end the command with one line."""
    conn = _connection(ctx)
    if not conn.token:
        fail("no API token: set TRUSTPLANE_TOKEN or pass --token", EXIT_USAGE)
    client = client_factory(conn.url, conn.token, conn.correlation_id)
    try:
        with client:
            yield client
    except TrustplaneClientError as exc:
        fail(describe(exc), exit_code(exc))


def exit_code(exc: TrustplaneClientError) -> int:
    """2 when the caller's input is at fault; 1 for denials, conflicts and failures."""
    if isinstance(exc, ValidationFailed | NotFound | PayloadTooLarge):
        return EXIT_USAGE
    return EXIT_DENIED


def describe(exc: TrustplaneClientError) -> str:
    """One line: what went wrong, the HTTP status and the id to quote to an operator."""
    if isinstance(exc, ConnectionFailed):
        return f"{exc} (is the server running? check --url or TRUSTPLANE_URL)"
    if not isinstance(exc, TrustplaneAPIError):
        return " ".join(str(exc).split())
    text = " ".join(exc.detail.split())
    where = f"HTTP {exc.status} {exc.code}"
    if exc.correlation_id:
        where += f", correlation id {exc.correlation_id}"
    return f"{text} ({where})"


def emit(result: ApiModel | list[Any], as_json: bool, show: Callable[[], None]) -> None:
    """JSON exactly as the API returned it, or the human view."""
    if as_json:
        if isinstance(result, list):
            emit_json([r.api_json() if isinstance(r, ApiModel) else r for r in result])
        else:
            emit_json(result.api_json())
    else:
        show()


def collect(
    fetch: Callable[..., Page[Any]],
    *,
    cursor: str | None,
    limit: int | None,
    follow: bool,
    **filters: Any,
) -> tuple[list[Any], list[Any], str | None]:
    """One page (or every page with ``follow``): typed items, their raw JSON, next cursor."""
    items: list[Any] = []
    raw: list[Any] = []
    while True:
        page = fetch(cursor=cursor, limit=limit, **filters)
        items.extend(page.items)
        raw.extend(page.api_json()["items"])
        if not follow or not page.next_cursor or page.next_cursor == cursor:
            return items, raw, page.next_cursor
        cursor = page.next_cursor


def emit_page(
    items: list[Any],
    raw: list[Any],
    next_cursor: str | None,
    as_json: bool,
    show: Callable[[list[Any]], None],
) -> None:
    """A list as the API shapes it (``items``, ``next_cursor``), or a table and a hint."""
    if as_json:
        emit_json({"items": raw, "next_cursor": next_cursor})
        return
    show(items)
    if next_cursor:
        console.print(f"more results: repeat with --cursor {next_cursor} (or --all)")


def print_secret(token: str) -> None:
    """Print a new token with the warning that it cannot be shown again."""
    console.print("token (shown once, store it now; it cannot be retrieved later):")
    console.print(token, highlight=False, soft_wrap=True, markup=False)


def when(value: datetime | None) -> str:
    """A time for a table: UTC, to the minute."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value is not None else ""


def cursor_option() -> Any:
    return typer.Option(None, "--cursor", help="Start after this cursor (from a previous page).")


def limit_option() -> Any:
    return typer.Option(None, "--limit", help="Items per page (the server's default if unset).")


def all_option() -> Any:
    return typer.Option(False, "--all", help="Follow cursors and list every item.")


def json_option() -> Any:
    return typer.Option(False, "--json", help=JSON_HELP)


def add_list_command(
    app: typer.Typer,
    name: str,
    summary: str,
    fetch: Callable[..., Page[Any]],
    show: Callable[[list[Any]], None],
) -> None:
    """Register a list command with no filters of its own: paging, ``--all`` and ``--json``.

    ``fetch`` is the SDK method (unbound, e.g. ``TrustplaneClient.list_tenants``).
    """

    def command(
        ctx: typer.Context,
        cursor: str | None = cursor_option(),
        limit: int | None = limit_option(),
        follow: bool = all_option(),
        as_json: bool = json_option(),
    ) -> None:
        with connect(ctx) as tp:
            page = collect(partial(fetch, tp), cursor=cursor, limit=limit, follow=follow)
        emit_page(*page, as_json, show)

    command.__doc__ = summary
    app.command(name)(command)
