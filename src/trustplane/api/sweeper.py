"""The server's periodic waiver sweep: a background task of the app's lifespan.

Every ``interval`` seconds, waivers past their expiry are marked expired (an audit event
each) and production versions that relied on them are flagged for review. Expired waivers
stop counting in decisions at once whatever the sweep does; the sweep makes the expiry
visible and actionable. Errors are logged and the next round runs as usual.
"""

from __future__ import annotations

import logging
from functools import partial

import anyio
from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from trustplane.db.base import utcnow
from trustplane.registry.waiving import sweep_all

log = logging.getLogger("trustplane.api.sweeper")


async def run_waiver_sweeps(interval: float, factory: sessionmaker[Session]) -> None:
    """Sweep expired waivers every ``interval`` seconds, until cancelled."""
    while True:
        await anyio.sleep(interval)
        try:
            expired = await to_thread.run_sync(partial(sweep_all, factory, utcnow()))
        except Exception:
            log.exception("periodic waiver sweep failed")
            continue
        if expired:
            log.info("waivers expired", extra={"count": expired})
