"""The ``trustplane`` Typer application: groups and their registration."""

from __future__ import annotations

import typer

from trustplane.cli import local

app = typer.Typer(
    name="trustplane",
    help="Trustplane: governance control plane for MLOps.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("serve")(local.serve)
app.add_typer(local.db_app, name="db")
app.add_typer(local.admin_app, name="admin")


def run() -> None:
    app()
