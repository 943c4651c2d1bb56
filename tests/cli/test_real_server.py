"""The CLI against a real ``trustplane serve`` process, every step a real subprocess.

Steps that do not depend on each other run at the same time (bootstrap while the server
starts; the two client commands together) to keep the test to a few seconds.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import clean_env, free_port, trustplane_executable, wait_ready

pytestmark = pytest.mark.server


@dataclass
class Server:
    url: str
    token: str
    home: Path


def _start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [trustplane_executable(), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
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
    _finish(_start("db", "upgrade", env=clean_env(home)))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "server.log").open("w") as log:
        proc = subprocess.Popen(
            [trustplane_executable(), "serve", "--port", str(port)],
            env=clean_env(home),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            bootstrap = _start("admin", "bootstrap", "--tenant", "x", "--json", env=clean_env(home))
            token = _json(bootstrap)["token"]["token"]
            wait_ready(url, proc)
            yield Server(url, token, home)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def test_cli_against_a_real_server(server: Server) -> None:
    env = clean_env(server.home, TRUSTPLANE_URL=server.url, TRUSTPLANE_TOKEN=server.token)
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
