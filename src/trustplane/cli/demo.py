"""``trustplane demo seed``: a whole governance story, seeded through the public HTTP API.

Without a server URL it works on the local database like ``admin bootstrap``: it migrates,
creates the ``acme-bank`` tenant (its admin is a platform admin, who creates the second
tenant over the API), serves the real app on a free local port in a background thread while
the story runs, then stops it. With ``--url``/``TRUSTPLANE_URL`` it seeds that server
instead, with a platform admin's token. The story itself is :mod:`trustplane.demo`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from trustplane.cli import local
from trustplane.cli.context import Connection, describe, exit_code
from trustplane.cli.output import EXIT_DENIED, EXIT_USAGE, console, emit_json, fail
from trustplane.client import DEFAULT_URL, TrustplaneClientError

if TYPE_CHECKING:
    from trustplane.config import Settings
    from trustplane.demo.report import Reporter

# The demo package (numpy, the evidence verifier) and the server are imported inside the
# command, so that the other commands of this executable start quickly.

demo_app = typer.Typer(
    help="A seeded demo: a governed release story on real data.", no_args_is_help=True
)

START_TIMEOUT_SECONDS = 30.0


@demo_app.command("seed")
def seed(
    ctx: typer.Context,
    as_json: bool = typer.Option(
        False, "--json", help="Print the summary, with the tokens issued, as JSON."
    ),
) -> None:
    """Seed tenant acme-bank with a governance story played through the API.

    Locally (no --url or TRUSTPLANE_URL): migrate, bootstrap, play the story
    against a temporary local server. Seeding again keeps the data and issues
    fresh tokens. With a URL: seed that server once, with a platform admin's
    token. Files go to $TRUSTPLANE_HOME/demo/ (see docs/demo.md).
    """
    from trustplane.demo import DemoError, data, scenario
    from trustplane.demo.report import Reporter, explore

    report = Reporter(None if as_json else _say)
    try:
        data.require_sklearn()
        remote = _remote(ctx)
        cfg = local.settings()
        folder = cfg.home / "demo"
        if remote is not None:
            summary = scenario.run(remote.url, _token(remote), folder, report)
            url = remote.url
        else:
            summary = _seed_locally(cfg, folder, report)
            url = DEFAULT_URL
    except DemoError as exc:
        fail(str(exc), EXIT_DENIED)
    except TrustplaneClientError as exc:
        fail(f"the demo stopped: {describe(exc)}", exit_code(exc))
    if as_json:
        emit_json(summary)
        return
    explore(summary, url, _say)
    if remote is None:
        _say("")
        _say(f"Serve it with 'trustplane serve' (API docs at {DEFAULT_URL}/docs).")


def _seed_locally(cfg: Settings, folder: Path, report: Reporter) -> dict[str, Any]:
    from trustplane.demo import recap, scenario

    _migrate(cfg)
    created, token = _bootstrap(cfg)
    with local_server(cfg) as url:
        if created:
            return scenario.run(url, token, folder, report, admin_token=token)
        return recap.recap(url, token, folder, report)


def _remote(ctx: typer.Context) -> Connection | None:
    """The connection when a server URL was given (option or environment), else None."""
    root = ctx.find_root()
    source = root.get_parameter_source("url")
    if source is None or source.name == "DEFAULT" or not isinstance(root.obj, Connection):
        return None
    return root.obj


def _token(conn: Connection) -> str:
    if not conn.token:
        fail(
            "seeding a running server needs a platform admin's token: set TRUSTPLANE_TOKEN",
            EXIT_USAGE,
        )
    return conn.token


def _migrate(cfg: Settings) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from trustplane.db import migrate

    try:
        migrate.upgrade(cfg.database_url)
    except (SQLAlchemyError, OSError) as exc:
        fail(f"cannot migrate the database: {exc}".splitlines()[0], EXIT_DENIED)


def _bootstrap(cfg: Settings) -> tuple[bool, str]:
    """Create acme-bank as ``admin bootstrap --existing-ok`` does: (created, admin token)."""
    from trustplane.demo.cast import ACME
    from trustplane.identity.schemas import TenantCreate

    result, token = local.create_or_reissue(cfg, TenantCreate(name=ACME), existing_ok=True)
    return result is not None, token


@contextmanager
def local_server(cfg: Settings) -> Iterator[str]:
    """The real app under uvicorn on a free 127.0.0.1 port, in a thread; stopped on exit."""
    import uvicorn

    from trustplane.api.app import create_app

    quiet = cfg.model_copy(
        update={"checkpoint_interval_seconds": 0, "waiver_sweep_interval_seconds": 0}
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(quiet), log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="demo-server", daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_SECONDS)
        sock.close()


def _wait_started(server: Any, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            fail("the local demo server did not start", EXIT_DENIED)
        time.sleep(0.02)


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)
