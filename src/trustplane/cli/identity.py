"""Client commands for who you are, tenants, environments and principals."""

from __future__ import annotations

import typer

from trustplane.cli.context import (
    add_list_command,
    all_option,
    collect,
    connect,
    cursor_option,
    emit,
    emit_page,
    json_option,
    limit_option,
    print_secret,
    when,
)
from trustplane.cli.output import console, table
from trustplane.client import TrustplaneClient
from trustplane.client.models import (
    BootstrapResult,
    EnvironmentRead,
    PrincipalRead,
    TenantRead,
    WhoAmI,
)

tenants_app = typer.Typer(help="Tenants (isolated organisations).", no_args_is_help=True)
environments_app = typer.Typer(help="Environments of your tenant.", no_args_is_help=True)
principals_app = typer.Typer(help="Users and service accounts.", no_args_is_help=True)


def whoami(ctx: typer.Context, as_json: bool = json_option()) -> None:
    """Show the principal behind your token, its grants and permissions."""
    with connect(ctx) as tp:
        me = tp.whoami()
    emit(me, as_json, lambda: _show_whoami(me))


def _show_whoami(me: WhoAmI) -> None:
    tenant = f"{me.tenant_name} ({me.tenant_id})" if me.tenant_id else "none"
    console.print(f"[bold]{me.name}[/] ({me.kind}, {me.principal_id})", highlight=False)
    console.print(f"tenant: {tenant}; signed in with {me.auth_method}", highlight=False)
    scope = [(g.role, g.environment_id or "all environments", g.binding_id) for g in me.grants]
    table("Grants", ["role", "scope", "binding"], scope)
    console.print(f"permissions: {', '.join(me.permissions) or 'none'}", highlight=False)


# -- tenants --------------------------------------------------------------------------------


def _show_tenants(items: list[TenantRead]) -> None:
    rows = [(t.name, t.display_name, t.id, when(t.created_at)) for t in items]
    table("Tenants", ["name", "display name", "id", "created"], rows)


add_list_command(
    tenants_app,
    "list",
    "List your tenant (platform admins see every tenant).",
    TrustplaneClient.list_tenants,
    _show_tenants,
)


@tenants_app.command("create")
def tenants_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Tenant name (lowercase letters, digits, dashes)."),
    display_name: str | None = typer.Option(None, "--display-name"),
    admin_name: str | None = typer.Option(None, "--admin", help="Name of its first admin."),
    admin_email: str | None = typer.Option(None, "--admin-email"),
    as_json: bool = json_option(),
) -> None:
    """Create a tenant with dev, staging and prod and a first admin (platform admins)."""
    with connect(ctx) as tp:
        result = tp.create_tenant(
            name, display_name=display_name, admin_name=admin_name, admin_email=admin_email
        )
    emit(result, as_json, lambda: _show_bootstrap(result))


def _show_bootstrap(result: BootstrapResult) -> None:
    console.print(f"created tenant [bold]{result.tenant.name}[/] ({result.tenant.id})")
    envs = ", ".join(f"{e.name} ({e.region})" for e in result.environments)
    console.print(f"environments: {envs}", highlight=False)
    console.print(f"admin: [bold]{result.admin.name}[/] ({result.admin.id})")
    print_secret(result.token.token)


# -- environments ---------------------------------------------------------------------------


def _show_environments(items: list[EnvironmentRead]) -> None:
    rows = [(e.name, e.region, e.sensitivity_ceiling, e.id, e.description) for e in items]
    table("Environments", ["name", "region", "sensitivity ceiling", "id", "description"], rows)


add_list_command(
    environments_app,
    "list",
    "List your tenant's environments.",
    TrustplaneClient.list_environments,
    _show_environments,
)


@environments_app.command("create")
def environments_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Environment name, e.g. 'dr'."),
    region: str | None = typer.Option(None, "--region", help="e.g. uk-south."),
    sensitivity_ceiling: str | None = typer.Option(
        None,
        "--sensitivity-ceiling",
        help="Most sensitive data allowed: public, internal, confidential, restricted-personal.",
    ),
    description: str | None = typer.Option(None, "--description"),
    as_json: bool = json_option(),
) -> None:
    """Add an environment to your tenant."""
    with connect(ctx) as tp:
        env = tp.create_environment(
            name, region=region, sensitivity_ceiling=sensitivity_ceiling, description=description
        )
    emit(env, as_json, lambda: _show_environments([env]))


# -- principals -----------------------------------------------------------------------------


@principals_app.command("list")
def principals_list(
    ctx: typer.Context,
    kind: str | None = typer.Option(None, "--kind", help="user or service_account."),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """List users and service accounts."""
    with connect(ctx) as tp:
        page = collect(tp.list_principals, cursor=cursor, limit=limit, follow=follow, kind=kind)
    emit_page(*page, as_json, _show_principals)


def _show_principals(items: list[PrincipalRead]) -> None:
    rows = [
        (p.name, p.kind, p.id, p.email or "", when(p.created_at), when(p.disabled_at))
        for p in items
    ]
    table("Principals", ["name", "kind", "id", "email", "created", "disabled"], rows)


@principals_app.command("show")
def principals_show(
    ctx: typer.Context,
    principal_id: str = typer.Argument(..., help="Principal id."),
    as_json: bool = json_option(),
) -> None:
    """Show one principal."""
    with connect(ctx) as tp:
        principal = tp.get_principal(principal_id)
    emit(principal, as_json, lambda: _show_principals([principal]))


@principals_app.command("create-user")
def principals_create_user(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Login name."),
    display_name: str | None = typer.Option(None, "--display-name"),
    email: str | None = typer.Option(None, "--email"),
    as_json: bool = json_option(),
) -> None:
    """Create a user (grant roles with 'bindings grant', a token with 'tokens create')."""
    with connect(ctx) as tp:
        user = tp.create_user(name, display_name=display_name, email=email)
    emit(user, as_json, lambda: _show_principals([user]))


@principals_app.command("create-service-account")
def principals_create_service_account(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Service account name, e.g. 'ci-train'."),
    description: str | None = typer.Option(None, "--description"),
    as_json: bool = json_option(),
) -> None:
    """Create a service account for a CI job or service."""
    with connect(ctx) as tp:
        account = tp.create_service_account(name, description=description)
    emit(account, as_json, lambda: _show_principals([account]))


@principals_app.command("disable")
def principals_disable(
    ctx: typer.Context,
    principal_id: str = typer.Argument(..., help="Principal id."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit trail)."),
    as_json: bool = json_option(),
) -> None:
    """Disable a principal: its tokens and grants stop working."""
    with connect(ctx) as tp:
        principal = tp.disable_principal(principal_id, reason)
    emit(principal, as_json, lambda: _show_principals([principal]))
