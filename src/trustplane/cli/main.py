"""The ``trustplane`` Typer application: groups and their registration."""

from __future__ import annotations

import typer

from trustplane.cli import access, audit, context, identity, local, oidc

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
app.callback()(context.global_options)
app.command("whoami")(identity.whoami)
app.add_typer(identity.tenants_app, name="tenants")
app.add_typer(identity.environments_app, name="environments")
app.add_typer(identity.principals_app, name="principals")
app.add_typer(access.tokens_app, name="tokens")
app.add_typer(access.roles_app, name="roles")
app.add_typer(access.bindings_app, name="bindings")
app.add_typer(access.access_app, name="access")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(oidc.oidc_app, name="oidc")


def run() -> None:
    app()
