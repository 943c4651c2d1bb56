"""Closed-loop HTTP/1.1 load generator on asyncio streams (the fallback when wrk is missing).

Each client owns one keep-alive connection and sends its next request as soon as the previous
response has been read. Run it as its own process so it does not share a GIL with the server:

    python bench/loadgen.py --url http://127.0.0.1:8000/healthz --connections 16 --seconds 5

It prints one JSON object: requests and latency percentiles of the measured window (after the
warm-up), and the errors (any non-2xx status, refused or broken connection, or timeout).
Bodies may carry ``{seq}``, replaced by a per-request unique ``<client>-<n>``. The
``Authorization`` header, if any, comes from the ``BENCH_AUTHORIZATION`` environment variable
so that credentials stay out of process listings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CONNECTION_CLOSE = re.compile(rb"\r\nconnection:[ \t]*close", re.IGNORECASE)
AUTH_ENV = "BENCH_AUTHORIZATION"
MAX_SAMPLES = 5
GRACE_SECONDS = 10.0


@dataclass
class Target:
    """Where and what to send: the connection address and the request pieces."""

    host: str
    port: int
    head: bytes
    body_template: str | None

    def request(self, seq: str) -> bytes:
        """The bytes of one request; the body gets its unique ``{seq}`` if it has one."""
        if self.body_template is None:
            return self.head + b"\r\n"
        body = self.body_template.replace("{seq}", seq).encode()
        return self.head + b"content-length: %d\r\n\r\n" % len(body) + body


@dataclass
class Tally:
    """What the clients observed in the measured window."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    samples: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(text[:300])


def build_target(url: str, method: str, headers: list[str], body: str | None) -> Target:
    """Pre-encode the request line and headers once; only bodies change per request."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise SystemExit(f"only http:// URLs are supported, got {url!r}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    port = parts.port or 80
    lines = [f"{method} {path} HTTP/1.1", f"host: {parts.hostname}:{port}", "user-agent: loadgen"]
    lines += headers
    authorization = os.environ.get(AUTH_ENV)
    if authorization:
        lines.append(f"authorization: {authorization}")
    if body is not None:
        lines.append("content-type: application/json")
    head = ("\r\n".join(lines) + "\r\n").encode("latin-1")
    return Target(parts.hostname, port, head, body)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body and whether the server will close the connection (Content-Length only)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    match = _CONTENT_LENGTH.search(head)
    if match is None:
        raise ValueError("response without Content-Length (chunked bodies are not supported)")
    body = await reader.readexactly(int(match.group(1)))
    return status, body, _CONNECTION_CLOSE.search(head) is not None


async def client(
    index: int, target: Target, warm_until: float, stop_at: float, tally: Tally
) -> None:
    """Send requests back to back on one connection until ``stop_at``; reconnect on failure."""
    seq = 0
    while time.perf_counter() < stop_at:
        try:
            reader, writer = await asyncio.open_connection(target.host, target.port)
        except OSError as exc:
            tally.error(f"connect: {exc}")
            await asyncio.sleep(0.05)
            continue
        try:
            while (started := time.perf_counter()) < stop_at:
                seq += 1
                writer.write(target.request(f"{index}-{seq}"))
                status, body, closing = await read_response(reader)
                if started >= warm_until:
                    tally.latencies.append(time.perf_counter() - started)
                    if not 200 <= status < 300:
                        tally.error(f"HTTP {status}: {body.decode('utf-8', 'replace')}")
                if closing:
                    break
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
            tally.error(f"connection: {exc!r}")
        finally:
            writer.close()


async def run(target: Target, connections: int, warmup: float, seconds: float) -> dict[str, object]:
    """Run the clients for ``warmup + seconds`` and summarise the measured window."""
    tally = Tally()
    warm_until = time.perf_counter() + warmup
    stop_at = warm_until + seconds
    tasks = [
        asyncio.create_task(client(i, target, warm_until, stop_at, tally))
        for i in range(connections)
    ]
    _, stuck = await asyncio.wait(tasks, timeout=warmup + seconds + GRACE_SECONDS)
    for task in stuck:
        task.cancel()
        tally.error(f"timeout: a request was still open {GRACE_SECONDS:.0f}s after the end")
    await asyncio.gather(*stuck, return_exceptions=True)
    elapsed = max(time.perf_counter() - warm_until, 1e-9)
    return summarise(tally, elapsed)


def summarise(tally: Tally, elapsed: float) -> dict[str, object]:
    """Requests, rate and percentiles (milliseconds) of the measured window."""
    count = len(tally.latencies)
    cuts = statistics.quantiles(tally.latencies, n=100) if count > 1 else [0.0] * 99
    return {
        "requests": count,
        "seconds": round(elapsed, 3),
        "rps": count / elapsed,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "errors": tally.errors,
        "error_samples": tally.samples,
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run the load and print the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--body", default=None, help="request body; '{seq}' is made unique")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    target = build_target(args.url, args.method, args.header, args.body)
    result = asyncio.run(run(target, args.connections, args.warmup, args.seconds))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
