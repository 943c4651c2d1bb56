"""Backends and server processes for the API benchmark.

A backend is a prepared database plus the environment ``trustplane`` needs to use it: SQLite in
a throw-away ``TRUSTPLANE_HOME``, or a throw-away PostgreSQL database owned by an ordinary role
(a superuser would bypass row-level security and flatter the figures). Servers run as real
``trustplane serve`` (or peer) processes on a free local port and are stopped with SIGINT.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

HOST = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


class BenchError(RuntimeError):
    """A step of the benchmark failed; the message says which and why."""


@dataclass
class Backend:
    """A migrated, bootstrapped database and the environment to serve it."""

    name: str
    env: dict[str, str]
    home: Path
    token: str


def trustplane_command() -> list[str]:
    """The ``trustplane`` console script of this interpreter's environment."""
    beside = Path(sys.executable).with_name("trustplane")
    found = str(beside) if beside.exists() else shutil.which("trustplane")
    if found is None:
        raise BenchError("the 'trustplane' command is not installed in this environment")
    return [found]


def base_env(home: Path, database_url: str) -> dict[str, str]:
    """This process's environment with Trustplane settings pointing at the backend only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTPLANE_")}
    env["TRUSTPLANE_HOME"] = str(home)
    env["TRUSTPLANE_DATABASE_URL"] = database_url
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: float = 120.0) -> str:
    """Run a ``trustplane`` command; its stdout, or :class:`BenchError` with its stderr."""
    done = subprocess.run(
        trustplane_command() + args,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-2000:]
        raise BenchError(f"'trustplane {' '.join(args)}' exited {done.returncode}: {detail}")
    return done.stdout


def prepare(name: str, home: Path, database_url: str) -> Backend:
    """Migrate the database and bootstrap the ``bench`` tenant; keep the admin's token."""
    env = base_env(home, database_url)
    run_cli(["db", "upgrade"], env)
    result = json.loads(run_cli(["admin", "bootstrap", "--tenant", "bench", "--json"], env))
    return Backend(name=name, env=env, home=home, token=str(result["token"]["token"]))


def sqlite_backend(home: Path) -> Backend:
    """SQLite in the (temporary) data folder, the embedded default."""
    return prepare("sqlite", home, "")


@contextlib.contextmanager
def postgres_database(admin_url: str, role: str) -> Iterator[str]:
    """A fresh database owned by ``role`` (LOGIN NOSUPERUSER NOBYPASSRLS); dropped afterwards.

    Yields the URL that reaches it as ``role``. ``psycopg.OperationalError`` means the server
    cannot be reached (or refuses us); the caller decides whether that skips the backend.
    """
    database = f"trustplane_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if exists is None:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS").format(sql.Identifier(role))
            )
        flags = conn.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (role,)
        ).fetchone()
        if flags is None or any(flags):
            raise BenchError(f"role {role} is a superuser or bypasses RLS; pick another role")
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(role)
            )
        )
    url = make_url(admin_url).set(username=role, password=None, database=database)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A server process we started, its port and its log file."""

    label: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def start(
    label: str, command: list[str], env: dict[str, str], log_path: Path, ready_path: str
) -> Server:
    """Start ``command`` (which must take ``--host/--port``) and wait until it answers."""
    port = free_port()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*command, "--host", HOST, "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(label, process, port, log_path)
    try:
        wait_ready(server, ready_path)
    except BaseException:
        stop(server)
        raise
    return server


def wait_ready(server: Server, path: str) -> None:
    """Poll ``path`` until it answers 2xx, the process dies, or the time runs out."""
    deadline = time.monotonic() + READY_TIMEOUT
    with httpx.Client(base_url=server.url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise BenchError(
                    f"{server.label} exited with {server.process.returncode}:\n" + server.log_tail()
                )
            with contextlib.suppress(httpx.TransportError):
                if client.get(path).is_success:
                    return
            time.sleep(0.1)
    raise BenchError(f"{server.label} was not ready within {READY_TIMEOUT:.0f}s")


def stop(server: Server) -> int | None:
    """Ask the server to shut down (SIGINT, as Ctrl-C); kill its process group if it hangs."""
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)
            return None
    return process.returncode


def trustplane_server(
    backend: Backend, workers: int, max_concurrent_requests: int | None = None
) -> Server:
    """``trustplane serve --workers N`` on ``backend``, as a user runs it.

    ``max_concurrent_requests`` (if set) reaches it as ``TRUSTPLANE_MAX_CONCURRENT_REQUESTS``;
    otherwise the product default holds.
    """
    command = [*trustplane_command(), "serve", "--workers", str(workers)]
    env = dict(backend.env)
    if max_concurrent_requests is not None:
        env["TRUSTPLANE_MAX_CONCURRENT_REQUESTS"] = str(max_concurrent_requests)
    log_path = backend.home / f"serve-{backend.name}-w{workers}.log"
    label = f"trustplane ({backend.name}, {workers} workers)"
    return start(label, command, env, log_path, "/readyz")


def peer_server(workers: int, log_dir: Path) -> Server:
    """The bare FastAPI peer app (``peer_app.py``), served the way ``trustplane serve`` serves."""
    command = [sys.executable, str(BENCH_DIR / "peer_app.py"), "--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTPLANE_")}
    log_path = log_dir / f"peer-w{workers}.log"
    return start(f"peer ({workers} workers)", command, env, log_path, "/ping")


def seed_principals(server: Server, token: str, count: int, prefix: str) -> None:
    """Create ``count`` service accounts so list pages are full, as in a real tenant."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30.0) as client:
        for n in range(count):
            response = client.post(
                "/api/v1/principals/service-accounts", json={"name": f"{prefix}-{n}"}
            )
            if not response.is_success:
                raise BenchError(f"seeding failed: HTTP {response.status_code} {response.text}")
