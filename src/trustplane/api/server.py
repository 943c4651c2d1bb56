"""Running the API under uvicorn, with one or several worker processes."""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "trustplane.api.asgi:app"


def tcp_listener(host: str, port: int) -> socket.socket:
    """A bound, inheritable listening socket created with ``IPPROTO_TCP``.

    uvicorn binds its multi-worker listener without naming the protocol; asyncio then does not
    recognise accepted connections as TCP and leaves Nagle's algorithm on, so every keep-alive
    response waits for the client's delayed ACK (about 40 ms). Naming the protocol restores
    ``TCP_NODELAY`` on every connection.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(host: str, port: int, workers: int) -> None:
    """Serve until interrupted. Each worker builds the app (and its logging) from the env."""
    config = uvicorn.Config(
        APP, host=host, port=port, workers=workers, log_config=None, access_log=False
    )
    try:
        if workers == 1:
            uvicorn.Server(config).run()
        else:
            Multiprocess(config, sockets=[tcp_listener(host, port)]).run()
    except KeyboardInterrupt:  # the server has shut down cleanly; Ctrl-C is a normal exit
        pass
