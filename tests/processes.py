"""Running the real ``trustplane`` console script in tests: executable, environment, ports."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.backends import in_ci


def trustplane_executable() -> str:
    """The console script of the environment running the tests.

    ``make test`` installs it, so under CI its absence fails the run; elsewhere (the package
    imported from a checkout without installing) the real-server tests skip, visibly.
    """
    beside = Path(sys.executable).parent / "trustplane"
    found = str(beside) if beside.exists() else shutil.which("trustplane")
    if found is None:
        reason = "the trustplane console script is not installed"
        if in_ci():
            pytest.fail(f"{reason}; under CI the real-server tests are mandatory", pytrace=False)
        pytest.skip(reason)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without any TRUSTPLANE_ setting, then ``home`` and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTPLANE_")}
    return {**env, "TRUSTPLANE_HOME": str(home), **extra}


def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the server at ``url`` answers /readyz; fail if it exits or takes 30 s."""
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
