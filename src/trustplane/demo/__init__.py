"""The seeded demo: a realistic governance story played through the public API.

Everything here acts as a client would (through :mod:`trustplane.client`); the command that
starts a local server and bootstraps the first tenant lives in :mod:`trustplane.cli.demo`.
"""

from __future__ import annotations


class DemoError(Exception):
    """The demo cannot go on; the message is one line a person can act on."""
