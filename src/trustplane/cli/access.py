"""Client commands for tokens, roles, bindings and access review."""

from __future__ import annotations

import typer

from trustplane.cli.context import (
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
from trustplane.client.models import AccessReview, BindingRead, RoleRead, TokenIssued, TokenRead

tokens_app = typer.Typer(help="API tokens (secrets shown once).", no_args_is_help=True)
roles_app = typer.Typer(help="Roles and their permissions.", no_args_is_help=True)
bindings_app = typer.Typer(help="Role grants to principals.", no_args_is_help=True)
access_app = typer.Typer(help="Access review.", no_args_is_help=True)


# -- tokens ---------------------------------------------------------------------------------


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    name: str | None = typer.Option(None, "--name", help="A label to tell tokens apart."),
    principal_id: str | None = typer.Option(
        None, "--principal", help="Issue for another principal (needs token.issue)."
    ),
    expires_in_days: int | None = typer.Option(None, "--expires-in-days"),
    as_json: bool = json_option(),
) -> None:
    """Issue an API token; the secret is printed once and cannot be retrieved later."""
    with connect(ctx) as tp:
        issued = tp.create_token(name, principal_id=principal_id, expires_in_days=expires_in_days)
    emit(issued, as_json, lambda: _show_issued(issued))


def _show_issued(issued: TokenIssued) -> None:
    console.print(
        f"issued token [bold]{issued.name}[/] ({issued.id}) for {issued.principal_id},"
        f" expires {when(issued.expires_at)} UTC",
        highlight=False,
    )
    print_secret(issued.token)


@tokens_app.command("revoke")
def tokens_revoke(
    ctx: typer.Context,
    token_id: str = typer.Argument(..., help="Token id (see 'tokens list')."),
    as_json: bool = json_option(),
) -> None:
    """Revoke a token: it stops working at once."""
    with connect(ctx) as tp:
        token = tp.revoke_token(token_id)
    emit(token, as_json, lambda: _show_tokens([token]))


@tokens_app.command("list")
def tokens_list(
    ctx: typer.Context,
    principal_id: str | None = typer.Option(None, "--principal", help="One principal's."),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """List token metadata (yours; everyone's with token.read). Secrets are never listed."""
    with connect(ctx) as tp:
        page = collect(
            tp.list_tokens, cursor=cursor, limit=limit, follow=follow, principal_id=principal_id
        )
    emit_page(*page, as_json, _show_tokens)


def _show_tokens(items: list[TokenRead]) -> None:
    rows = [
        (
            t.name,
            t.prefix + "…",
            t.id,
            t.principal_id,
            when(t.expires_at),
            when(t.last_used_at),
            when(t.revoked_at),
        )
        for t in items
    ]
    columns = ["name", "prefix", "id", "principal", "expires", "last used", "revoked"]
    table("Tokens", columns, rows)


# -- roles ----------------------------------------------------------------------------------


@roles_app.command("list")
def roles_list(ctx: typer.Context, as_json: bool = json_option()) -> None:
    """List roles, their permissions, and which ones are sensitive."""
    with connect(ctx) as tp:
        roles = tp.list_roles()
    emit(roles, as_json, lambda: _show_roles(roles))


def _show_roles(roles: list[RoleRead]) -> None:
    rows = [
        (
            r.name,
            "yes" if r.sensitive else "",
            "yes" if r.tenant_wide_only else "",
            r.description,
            ", ".join(r.permissions),
        )
        for r in roles
    ]
    table("Roles", ["role", "sensitive", "tenant-wide only", "description", "permissions"], rows)


# -- bindings -------------------------------------------------------------------------------


@bindings_app.command("grant")
def bindings_grant(
    ctx: typer.Context,
    principal_id: str = typer.Option(..., "--principal", help="Principal id."),
    role: str = typer.Option(..., "--role", help="Role name (see 'roles list')."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit trail)."),
    environment: str | None = typer.Option(
        None, "--environment", help="Limit the grant to one environment."
    ),
    expires_at: str | None = typer.Option(
        None, "--expires-at", help="RFC 3339 time with a timezone, e.g. 2030-01-31T00:00:00Z."
    ),
    as_json: bool = json_option(),
) -> None:
    """Grant a role to a principal."""
    with connect(ctx) as tp:
        binding = tp.grant(
            principal_id, role, reason, environment=environment, expires_at=expires_at
        )
    emit(binding, as_json, lambda: _show_bindings([binding]))


@bindings_app.command("revoke")
def bindings_revoke(
    ctx: typer.Context,
    binding_id: str = typer.Argument(..., help="Binding id (see 'bindings list')."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit trail)."),
    as_json: bool = json_option(),
) -> None:
    """Revoke a role grant."""
    with connect(ctx) as tp:
        binding = tp.revoke_binding(binding_id, reason)
    emit(binding, as_json, lambda: _show_bindings([binding]))


@bindings_app.command("list")
def bindings_list(
    ctx: typer.Context,
    principal_id: str | None = typer.Option(None, "--principal", help="One principal's."),
    include_revoked: bool = typer.Option(False, "--include-revoked"),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """List role grants."""
    with connect(ctx) as tp:
        page = collect(
            tp.list_bindings,
            cursor=cursor,
            limit=limit,
            follow=follow,
            principal_id=principal_id,
            include_revoked=include_revoked,
        )
    emit_page(*page, as_json, _show_bindings)


def _show_bindings(items: list[BindingRead]) -> None:
    rows = [
        (
            b.id,
            b.principal_id,
            b.role,
            b.environment_id or "all",
            when(b.expires_at),
            b.reason,
            when(b.revoked_at),
        )
        for b in items
    ]
    columns = ["id", "principal", "role", "environment", "expires", "reason", "revoked"]
    table("Bindings", columns, rows)


# -- access review --------------------------------------------------------------------------


@access_app.command("review")
def access_review(
    ctx: typer.Context,
    expiring_within_days: int | None = typer.Option(
        None, "--expiring-within-days", help="Flag grants expiring within N days."
    ),
    unused_for_days: int | None = typer.Option(
        None, "--unused-for-days", help="Flag grants not used for N days."
    ),
    as_json: bool = json_option(),
) -> None:
    """Grants that need a reviewer: expired, expiring, unused, or held by a disabled principal."""
    with connect(ctx) as tp:
        review = tp.access_review(
            expiring_within_days=expiring_within_days, unused_for_days=unused_for_days
        )
    emit(review, as_json, lambda: _show_review(review))


def _show_review(review: AccessReview) -> None:
    rows = [
        (
            f.principal_name,
            f.binding.role,
            f.binding.environment_id or "all",
            ", ".join(f.reasons),
            f.binding.id,
        )
        for f in review.findings
    ]
    title = (
        f"Access review ({len(rows)} findings; expiring within {review.expiring_within_days}"
        f" days, unused for {review.unused_for_days} days)"
    )
    table(title, ["principal", "role", "environment", "reasons", "binding"], rows)
