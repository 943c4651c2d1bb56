"""Peer baseline: a bare FastAPI app with one trivial JSON route, served like Trustplane.

``python bench/peer_app.py --port 8001 [--workers N]`` runs it under uvicorn with the same
options ``trustplane serve`` uses, so the difference to Trustplane is Trustplane's own work.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from fastapi import FastAPI

app = FastAPI(title="peer")


@app.get("/ping")
def ping() -> dict[str, str]:
    """The cheapest JSON GET FastAPI serves: a sync route, like Trustplane's."""
    return {"status": "ok"}


def main() -> None:
    """Serve :data:`app` with the options ``trustplane serve`` passes to uvicorn."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "peer_app:app",
        app_dir=str(Path(__file__).resolve().parent),
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
