"""ASGI entry point for servers (``uvicorn trustplane.api.asgi:app``); settings from env.

Each server worker process imports this module, so logging is configured here, per process.
"""

import gc

from trustplane import logs
from trustplane.api.app import create_app
from trustplane.config import Settings

settings = Settings()
logs.configure(settings.log_level)
app = create_app(settings)

# What exists now (modules, table metadata, schemas) lives as long as the server process: take
# it out of the cyclic collector's sight. Otherwise every full collection, which request garbage
# triggers now and then, walks all of it and stalls one request for tens of milliseconds.
gc.collect()
gc.freeze()
