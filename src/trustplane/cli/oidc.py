"""Client commands for OIDC workload identity: trusted issuers and claim rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from trustplane.cli.context import (
    add_list_command,
    connect,
    emit,
    json_option,
    when,
)
from trustplane.cli.output import EXIT_USAGE, fail, table
from trustplane.client import TrustplaneClient
from trustplane.client.models import OidcIssuerRead, OidcRuleRead

oidc_app = typer.Typer(help="OIDC workload identity (e.g. CI jobs).", no_args_is_help=True)
issuers_app = typer.Typer(help="Trusted OIDC issuers.", no_args_is_help=True)
rules_app = typer.Typer(help="Rules mapping OIDC claims to service accounts.", no_args_is_help=True)
oidc_app.add_typer(issuers_app, name="issuers")
oidc_app.add_typer(rules_app, name="rules")


# -- issuers --------------------------------------------------------------------------------


@issuers_app.command("add")
def issuers_add(
    ctx: typer.Context,
    issuer: str = typer.Option(..., "--issuer", help="Issuer URL (the token's iss claim)."),
    audience: str = typer.Option(..., "--audience", help="Expected aud claim."),
    jwks_file: Path | None = typer.Option(
        None, "--jwks", help="Local JWKS file; its keys are sent to the server inline."
    ),
    jwks_path: str | None = typer.Option(
        None, "--jwks-path", help="Path of a JWKS file on the server, read there."
    ),
    as_json: bool = json_option(),
) -> None:
    """Trust an OIDC issuer's signing keys (give exactly one of --jwks or --jwks-path)."""
    if (jwks_file is None) == (jwks_path is None):
        fail("give exactly one of --jwks FILE or --jwks-path PATH", EXIT_USAGE)
    jwks = _read_jwks(jwks_file) if jwks_file is not None else None
    with connect(ctx) as tp:
        created = tp.create_oidc_issuer(issuer, audience, jwks=jwks, jwks_path=jwks_path)
    emit(created, as_json, lambda: _show_issuers([created]))


def _read_jwks(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read JWKS file {path}: {exc.strerror or exc}", EXIT_USAGE)
    except (ValueError, UnicodeDecodeError) as exc:
        fail(f"JWKS file {path} is not valid JSON: {exc}", EXIT_USAGE)
    if not isinstance(data, dict):
        fail(f"JWKS file {path} must hold a JSON object with a 'keys' list", EXIT_USAGE)
    return data


@issuers_app.command("disable")
def issuers_disable(
    ctx: typer.Context,
    issuer_id: str = typer.Argument(..., help="Issuer id (see 'oidc issuers list')."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit trail)."),
    as_json: bool = json_option(),
) -> None:
    """Stop trusting an issuer."""
    with connect(ctx) as tp:
        disabled = tp.disable_oidc_issuer(issuer_id, reason)
    emit(disabled, as_json, lambda: _show_issuers([disabled]))


def _show_issuers(items: list[OidcIssuerRead]) -> None:
    rows = [
        (
            i.id,
            i.issuer,
            i.audience,
            i.jwks_path if i.jwks_source == "file" else i.jwks_source,
            ", ".join(i.key_ids),
            when(i.disabled_at),
        )
        for i in items
    ]
    table("OIDC issuers", ["id", "issuer", "audience", "keys from", "key ids", "disabled"], rows)


add_list_command(
    issuers_app,
    "list",
    "List trusted OIDC issuers.",
    TrustplaneClient.list_oidc_issuers,
    _show_issuers,
)


# -- rules ----------------------------------------------------------------------------------


def _show_rules(items: list[OidcRuleRead]) -> None:
    rows = [
        (
            r.id,
            r.issuer_id,
            r.service_account_id,
            "; ".join(
                f"{c.claim} {'~' if c.match == 'glob' else '='} {c.value}" for c in r.conditions
            ),
            r.description,
            when(r.disabled_at),
        )
        for r in items
    ]
    columns = ["id", "issuer", "service account", "conditions", "description", "disabled"]
    table("OIDC rules", columns, rows)


add_list_command(
    rules_app,
    "list",
    "List OIDC claim rules.",
    TrustplaneClient.list_oidc_rules,
    _show_rules,
)


@rules_app.command("add")
def rules_add(
    ctx: typer.Context,
    issuer_id: str = typer.Option(..., "--issuer-id", help="Trusted issuer id."),
    service_account_id: str = typer.Option(
        ..., "--service-account", help="Service account id the workload acts as."
    ),
    claims: list[str] = typer.Option(
        ..., "--claim", help="CLAIM=VALUE that must hold; repeat for more (all must hold)."
    ),
    glob: bool = typer.Option(False, "--glob", help="Match values as globs, not exactly."),
    description: str = typer.Option("", "--description"),
    as_json: bool = json_option(),
) -> None:
    """Map OIDC tokens whose claims match to a service account."""
    match = "glob" if glob else "equals"
    conditions = [_condition(text, match) for text in claims]
    with connect(ctx) as tp:
        rule = tp.create_oidc_rule(
            issuer_id, service_account_id, conditions, description=description
        )
    emit(rule, as_json, lambda: _show_rules([rule]))


def _condition(text: str, match: str) -> dict[str, str]:
    claim, sep, value = text.partition("=")
    if not sep or not claim.strip():
        fail(f"--claim expects CLAIM=VALUE, got '{text}'", EXIT_USAGE)
    return {"claim": claim.strip(), "match": match, "value": value}


@rules_app.command("disable")
def rules_disable(
    ctx: typer.Context,
    rule_id: str = typer.Argument(..., help="Rule id (see 'oidc rules list')."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit trail)."),
    as_json: bool = json_option(),
) -> None:
    """Disable a claim rule."""
    with connect(ctx) as tp:
        disabled = tp.disable_oidc_rule(rule_id, reason)
    emit(disabled, as_json, lambda: _show_rules([disabled]))
