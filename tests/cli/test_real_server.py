"""The CLI against a real ``trustplane serve`` process, every step a real subprocess.

Steps that do not depend on each other run at the same time (bootstrap while the server
starts; the two client commands together) to keep the test to a few seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.server


@dataclass
class Server:
    url: str
    token: str
    home: Path


def _executable() -> str:
    beside = Path(sys.executable).parent / "trustplane"
    found = str(beside) if beside.exists() else shutil.which("trustplane")
    if found is None:
        pytest.skip("the trustplane console script is not installed")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTPLANE_")}
    return {**env, "TRUSTPLANE_HOME": str(home), **extra}


def _start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [_executable(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _finish(proc: subprocess.Popen[str]) -> str:
    """Wait for a command to succeed; return its stdout."""
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, (proc.args, stdout, stderr)
    return stdout


def _json(proc: subprocess.Popen[str]) -> Any:
    return json.loads(_finish(proc))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A migrated home, a server on a free port, and the admin token of tenant ``x``."""
    home = tmp_path / "home"
    _finish(_start("db", "upgrade", env=_env(home)))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "server.log").open("w") as log:
        proc = subprocess.Popen(
            [_executable(), "serve", "--port", str(port)],
            env=_env(home),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            bootstrap = _start("admin", "bootstrap", "--tenant", "x", "--json", env=_env(home))
            token = _json(bootstrap)["token"]["token"]
            _wait_ready(url, proc)
            yield Server(url, token, home)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited during start-up"
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail("the server did not become ready within 30 seconds")


def test_cli_against_a_real_server(server: Server) -> None:
    env = _env(server.home, TRUSTPLANE_URL=server.url, TRUSTPLANE_TOKEN=server.token)
    whoami = _start("whoami", "--json", env=env)
    create = _start("tokens", "create", "--name", "ci", "--json", env=env)
    me, issued = _json(whoami), _json(create)
    assert (me["tenant_name"], me["name"], me["auth_method"]) == ("x", "admin", "token")
    assert issued["token"].startswith("tp_")
    assert issued["principal_id"] == me["principal_id"]
    response = httpx.get(
        f"{server.url}/api/v1/whoami", headers={"Authorization": f"Bearer {issued['token']}"}
    )
    assert response.json()["principal_id"] == me["principal_id"]
