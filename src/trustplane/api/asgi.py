"""ASGI entry point for servers (``uvicorn trustplane.api.asgi:app``); settings from env.

Each server worker process imports this module, so logging is configured here, per process.
"""

from trustplane import logs
from trustplane.api.app import create_app
from trustplane.config import Settings

settings = Settings()
logs.configure(settings.log_level)
app = create_app(settings)
