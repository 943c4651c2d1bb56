"""Peer baseline: a bare FastAPI app with one trivial JSON route, served like Trustplane.

``python bench/peer_app.py --port 8001 [--workers N]`` runs it under uvicorn exactly as
``trustplane serve`` runs Trustplane (``trustplane.api.server``): the same uvicorn options, one
``uvicorn.Server`` for one worker, and for more uvicorn's worker supervisor on the listener from
``tcp_listener`` (which keeps ``TCP_NODELAY``). The difference to Trustplane is Trustplane's work.
"""

from __future__ import annotations

import argparse
import contextlib

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from trustplane.api.server import tcp_listener

app = FastAPI(title="peer")


@app.get("/ping")
def ping() -> dict[str, str]:
    """The cheapest JSON GET FastAPI serves: a sync route, like Trustplane's."""
    return {"status": "ok"}


def main() -> None:
    """Serve :data:`app` as ``trustplane.api.server.serve`` serves Trustplane's app."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # Worker processes import the app by name; this script's folder is first on sys.path.
    config = uvicorn.Config(
        "peer_app:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
    )
    # After a graceful shutdown uvicorn re-raises the signal it caught; end quietly (exit 0).
    with contextlib.suppress(KeyboardInterrupt):
        if args.workers == 1:
            uvicorn.Server(config).run()
        else:
            Multiprocess(config, sockets=[tcp_listener(args.host, args.port)]).run()


if __name__ == "__main__":
    main()
