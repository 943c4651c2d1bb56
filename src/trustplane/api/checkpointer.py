"""The server's periodic checkpoints: a background task of the app's lifespan.

Every ``interval`` seconds it signs a checkpoint for each tenant whose ledger grew since its
latest one. The database work runs in a worker thread; an error is logged and the next round
runs as usual, so a failing round never stops the server. Cancelling the task (at shutdown)
lets a round in progress finish its transaction first.
"""

from __future__ import annotations

import logging
from functools import partial

import anyio
from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from trustplane.audit.checkpoints import checkpoint_grown_ledgers
from trustplane.audit.notes import Signer

log = logging.getLogger("trustplane.api.checkpointer")


async def run_checkpoints(
    interval: float, factory: sessionmaker[Session], signer: Signer, ledger_name: str
) -> None:
    """Sign checkpoints of grown ledgers every ``interval`` seconds, until cancelled."""
    work = partial(checkpoint_grown_ledgers, factory, signer, ledger_name)
    while True:
        await anyio.sleep(interval)
        try:
            signed = await to_thread.run_sync(work)
        except Exception:
            log.exception("periodic checkpoint round failed")
            continue
        if signed:
            log.info("periodic checkpoints signed", extra={"count": signed})
