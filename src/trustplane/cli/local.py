"""Local commands: they work on the data folder and the database directly, with no server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError

from trustplane.cli.output import EXIT_DENIED, console, emit_json, fail
from trustplane.config import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from trustplane.identity.schemas import BootstrapResult, TenantCreate

# Heavy modules (uvicorn, alembic, the ORM) are imported inside the commands that need them,
# so that client commands, which share this executable, start quickly.

db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
admin_app = typer.Typer(help="Installation administration (local, needs database access).")


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        fail(f"invalid TRUSTPLANE_ settings: {exc.errors()[0]['msg']}")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply database migrations (the only way the schema is created or changed)."""
    from sqlalchemy.exc import SQLAlchemyError

    from trustplane.db import migrate

    cfg = settings()
    try:
        current = migrate.upgrade(cfg.database_url, revision)
    except (SQLAlchemyError, OSError) as exc:
        fail(f"cannot migrate the database: {_first_line(exc)}", EXIT_DENIED)
    console.print(f"database at revision [bold]{current}[/]")
    _ledger_key(cfg)


def _ledger_key(cfg: Settings) -> None:
    """Create the checkpoint signing key (mode 0600) if there is none; print its public key."""
    from trustplane.audit.checkpoints import signer_from_settings
    from trustplane.audit.keys import KeyFileError, verifier_key_string

    try:
        signer = signer_from_settings(cfg)
    except (KeyFileError, OSError) as exc:
        fail(f"ledger signing key: {_first_line(exc)}", EXIT_DENIED)
    console.print(f"ledger signing key at {cfg.signing_key_path}; verifier key:")
    console.print(verifier_key_string(signer), highlight=False, soft_wrap=True, markup=False)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def ready_engine(cfg: Settings) -> Engine:
    """An engine on a reachable database at the code's migration head, or a one-line exit."""
    from trustplane.db import migrate
    from trustplane.db.session import make_engine

    engine = make_engine(cfg.database_url)
    status = migrate.schema_status(engine)
    if not status.ready:
        engine.dispose()
        fail(
            f"database not ready ({status.database}, revision {status.current} of {status.head});"
            " run 'trustplane db upgrade'",
            EXIT_DENIED,
        )
    return engine


@admin_app.command("bootstrap")
def bootstrap(
    tenant: str = typer.Option(..., "--tenant", help="Name of the tenant to create."),
    admin: str = typer.Option("admin", "--admin", help="Name of its first admin user."),
    existing_ok: bool = typer.Option(
        False, "--existing-ok", help="If the tenant exists, issue a fresh token to its admin."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Create a tenant, its dev/staging/prod environments and an admin; print a token once.

    The admin also becomes a platform admin, who may create further tenants over the API.
    """
    from trustplane.identity.schemas import TenantCreate

    cfg = settings()
    try:
        data = TenantCreate(name=tenant, admin_name=admin)
    except ValidationError as exc:
        fail(f"invalid tenant name '{tenant}': {exc.errors()[0]['msg']}")
    result, token = create_or_reissue(cfg, data, existing_ok=existing_ok)
    _print_bootstrap(result, token, tenant, as_json)


def create_or_reissue(
    cfg: Settings, data: TenantCreate, *, existing_ok: bool
) -> tuple[BootstrapResult | None, str]:
    """Create the tenant with its admin (a platform admin) and return a token; if it exists
    and ``existing_ok``, issue its admin a fresh token (the result is then None)."""
    from ulid import ULID

    from trustplane.audit import Origin
    from trustplane.db.session import make_session_factory, unit_of_work
    from trustplane.errors import Conflict, TrustplaneError
    from trustplane.identity import tenants
    from trustplane.identity.actor import Actor

    engine = ready_engine(cfg)
    actor = Actor.local_system(Origin(correlation_id=f"cli-{ULID()}"))
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            try:
                result = tenants.create_tenant(
                    session, actor, data, token_ttl_days=cfg.token_ttl_days, platform_admin=True
                )
                return result, result.token.token
            except Conflict:
                if not existing_ok:
                    raise
                return None, tenants.reissue_admin_token(
                    session, actor, data.name, cfg.token_ttl_days
                )
    except TrustplaneError as exc:
        fail(exc.detail, EXIT_DENIED)
    finally:
        engine.dispose()


def _print_bootstrap(
    result: BootstrapResult | None, token: str, tenant: str, as_json: bool
) -> None:
    if as_json:
        emit_json(
            result
            if result is not None
            else {"tenant": {"name": tenant}, "token": {"token": token}}
        )
        return
    if result is not None:
        console.print(f"created tenant [bold]{result.tenant.name}[/] ({result.tenant.id})")
        envs = ", ".join(
            f"{e.name} ({e.region}, ceiling {e.sensitivity_ceiling})" for e in result.environments
        )
        console.print(f"environments: {envs}")
        console.print(f"admin: [bold]{result.admin.name}[/] ({result.admin.id})")
    else:
        console.print(f"tenant [bold]{tenant}[/] exists; issued a fresh admin token")
    console.print("token (shown once, store it now):")
    console.print(token, highlight=False, soft_wrap=True)


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="TCP port."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes."),
) -> None:
    """Serve the API (migrate first with 'trustplane db upgrade')."""
    from trustplane.api.server import serve as run_server

    cfg = settings()
    ready_engine(cfg).dispose()
    _ledger_key(cfg)  # before the workers start, so they all load the one key
    console.print(f"Trustplane serving on http://{host}:{port} ({workers} worker(s))")
    run_server(host, port, workers)
