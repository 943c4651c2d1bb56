"""Load generators: ``wrk`` when installed, else the asyncio generator in ``loadgen.py``.

Both run as separate processes, keep their connections alive, discard a warm-up and report the
same figures: requests/s, p50 and p99 latency, errors with samples, and the CPU they used
themselves (to show they were not the bottleneck).
"""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
WRK_SCRIPT = BENCH_DIR / "wrk_report.lua"
LOADGEN = BENCH_DIR / "loadgen.py"
REQUEST_TIMEOUT_SECONDS = 10
GENERATORS = ("auto", "wrk", "python")
AUTH_ENV = "BENCH_AUTHORIZATION"  # read by loadgen.py and wrk_report.lua


class LoadError(RuntimeError):
    """The load generator failed (not the server: its errors are counted, not raised)."""


@dataclass(frozen=True)
class Load:
    """What to send: a path, an optional POST body template (``{seq}`` made unique) and an
    optional ``Authorization`` value (handed to the generator in its environment, never argv).
    """

    path: str
    body: str | None = None
    authorization: str | None = None


@dataclass
class Figures:
    """What one measured window showed."""

    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    error_samples: list[str] = field(default_factory=list)
    generator_cpu: float = 0.0


def pick_generator(choice: str) -> str:
    """``wrk`` if asked for or (with ``auto``) installed; otherwise the Python generator."""
    if choice == "python":
        return "python"
    if shutil.which("wrk") is not None:
        return "wrk"
    if choice == "wrk":
        raise SystemExit("--generator wrk was asked for, but wrk is not installed")
    return "python"


def describe(generator: str) -> str:
    """One line saying which generator runs and how."""
    if generator == "wrk":
        return "wrk (C, epoll, keep-alive; Lua script wrk_report.lua for bodies and errors)"
    return "loadgen.py (asyncio streams, keep-alive HTTP/1.1, one process)"


def run_load(
    generator: str, base_url: str, load: Load, clients: int, warmup: float, seconds: float
) -> Figures:
    """Warm up for ``warmup`` seconds (discarded), then measure ``clients`` for ``seconds``."""
    before = _children_cpu()
    started = time.monotonic()
    if generator == "wrk":
        if warmup > 0:
            warm = Load(load.path, _tagged(load.body, "warm"), load.authorization)
            _wrk(base_url, warm, clients, warmup)
        figures = _wrk(base_url, load, clients, seconds)
    else:
        figures = _python(base_url, load, clients, warmup, seconds)
    figures.generator_cpu = (_children_cpu() - before) / max(time.monotonic() - started, 1e-9)
    return figures


def _tagged(body: str | None, tag: str) -> str | None:
    return None if body is None else body.replace("{seq}", f"{tag}-{{seq}}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wrk(base_url: str, load: Load, clients: int, seconds: float) -> Figures:
    threads = max(1, min(clients, os.cpu_count() or 1))
    command = [
        "wrk",
        f"--threads={threads}",
        f"--connections={clients}",
        f"--duration={max(1, math.ceil(seconds))}s",  # wrk takes whole seconds only
        f"--timeout={REQUEST_TIMEOUT_SECONDS}s",
        f"--script={WRK_SCRIPT}",
    ]
    command += [base_url + load.path, "--", load.body or ""]
    out = _run(command, seconds, load.authorization)
    line = next((x for x in out.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise LoadError(f"wrk printed no summary:\n{out[-2000:]}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    duration = max(data["duration_us"] / 1e6, 1e-9)
    errors = sum(int(data[k]) for k in ("non2xx", "connect", "read", "write", "timeout"))
    samples = [str(s) for s in data["samples"]]
    socket_errors = {k: data[k] for k in ("connect", "read", "write", "timeout") if data[k]}
    if socket_errors:
        samples.append(f"socket errors: {socket_errors}")
    return Figures(
        requests=int(data["requests"]),
        rps=data["requests"] / duration,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
        error_samples=samples,
    )


def _python(base_url: str, load: Load, clients: int, warmup: float, seconds: float) -> Figures:
    command = [
        sys.executable,
        str(LOADGEN),
        f"--url={base_url + load.path}",
        f"--connections={clients}",
        f"--warmup={warmup}",
        f"--seconds={seconds}",
    ]
    if load.body is not None:
        command += ["--method=POST", f"--body={load.body}"]
    data = json.loads(_run(command, warmup + seconds, load.authorization))
    return Figures(
        requests=int(data["requests"]),
        rps=float(data["rps"]),
        p50_ms=float(data["p50_ms"]),
        p99_ms=float(data["p99_ms"]),
        errors=int(data["errors"]),
        error_samples=[str(s) for s in data["error_samples"]],
    )


def _run(command: list[str], seconds: float, authorization: str | None) -> str:
    env = dict(os.environ)
    env.pop(AUTH_ENV, None)
    if authorization is not None:
        env[AUTH_ENV] = authorization
    try:
        done = subprocess.run(
            command,
            env=env,
            capture_output=True,
            text=True,
            timeout=seconds + 3 * REQUEST_TIMEOUT_SECONDS + 30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LoadError(f"{command[0]} failed: {exc}") from exc
    if done.returncode != 0:
        raise LoadError(f"{command[0]} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout
