"""ASGI entry point for servers (``uvicorn trustplane.api.asgi:app``); settings from env."""

from trustplane.api.app import create_app

app = create_app()
