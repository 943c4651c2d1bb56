"""The ``trustplane`` Typer application: groups and their registration."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

try:  # Typer vendors Click from 0.2x on; older Typer releases use Click itself.
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - depends on the installed Typer
    from click.exceptions import NoArgsIsHelpError, UsageError  # type: ignore[assignment]

from trustplane.cli import (
    access,
    audit,
    cards,
    context,
    demo,
    evidence,
    gate,
    identity,
    ledger_local,
    lineage,
    local,
    oidc,
    policy,
    signoffs,
    waivers,
)
from trustplane.cli import models as model_commands
from trustplane.cli import registry as registry_commands
from trustplane.cli.output import EXIT_DENIED, EXIT_USAGE, err_console

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
app.add_typer(demo.demo_app, name="demo")
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
audit.audit_app.command("export")(ledger_local.export)
audit.audit_app.command("verify")(ledger_local.verify)
audit.audit_app.command("fsck")(ledger_local.fsck)
app.add_typer(oidc.oidc_app, name="oidc")
app.add_typer(registry_commands.dataset_app, name="dataset")
app.add_typer(registry_commands.feature_app, name="feature")
app.add_typer(registry_commands.run_app, name="run")
app.add_typer(model_commands.model_app, name="model")
model_commands.model_app.command("approvals")(signoffs.approvals)
model_commands.model_app.command("sign-off")(signoffs.sign_off)
model_commands.model_app.command("card")(cards.card)
app.add_typer(policy.policy_app, name="policy")
app.add_typer(policy.decisions_app, name="decisions")
app.add_typer(waivers.waivers_app, name="waivers")
app.command("gate")(gate.gate)
app.add_typer(lineage.lineage_app, name="lineage")
app.add_typer(evidence.releases_app, name="releases")
app.add_typer(evidence.evidence_app, name="evidence")
app.command("reconstruct")(evidence.reconstruct)


def run() -> None:
    """Entry point: usage errors become one line on stderr and exit code 2."""
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError:  # the help text has been printed already
        sys.exit(EXIT_USAGE)
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "trustplane"
        err_console.print(
            f"[bold red]error:[/] {escape(exc.format_message())} (see '{where} --help')",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(EXIT_USAGE)
    except typer.Abort:
        sys.exit(EXIT_DENIED)
    sys.exit(code if isinstance(code, int) else 0)
