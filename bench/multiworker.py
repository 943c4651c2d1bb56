"""Serve an ASGI app with several uvicorn workers on a listener that keeps TCP_NODELAY.

``uvicorn.run(..., workers=N)`` binds its listener without ``IPPROTO_TCP``; accepted sockets
inherit that, asyncio then leaves Nagle's algorithm on, and every keep-alive response waits
for the client's delayed ACK (about 40 ms on Linux; uvicorn issue #3149). This launcher binds
the listener itself with ``IPPROTO_TCP`` and hands it to uvicorn's own worker supervisor, with
the options ``trustplane serve`` uses, so the benchmark can show what the fix is worth:

    python bench/multiworker.py trustplane.api.asgi:app --port 8000 --workers 2
"""

from __future__ import annotations

import argparse
import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess


def tcp_listener(host: str, port: int) -> socket.socket:
    """A bound, inheritable TCP listener whose accepted sockets report ``IPPROTO_TCP``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def main() -> None:
    """Parse the command line and run the workers until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("app", help="import string, e.g. trustplane.api.asgi:app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--app-dir", default=None, help="prepended to sys.path")
    args = parser.parse_args()
    if args.app_dir:
        sys.path.insert(0, args.app_dir)
    config = uvicorn.Config(
        args.app,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
    )
    Multiprocess(config, sockets=[tcp_listener(args.host, args.port)]).run()


if __name__ == "__main__":
    main()
