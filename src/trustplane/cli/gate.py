"""The CI gate: ``trustplane gate`` exits 0 allowed, 1 denied, 2 when it could not decide.

A pipeline must tell "the policy said no" from "the step broke", so unlike the other commands
every outcome that is not a decision (bad input, no credential, the server unreachable, a
refused token, an unknown model) exits 2. A CI job rarely holds a long-lived token: the gate
also signs in with the job's OIDC token, which the server accepts as a bearer credential.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import typer

from trustplane.cli import context
from trustplane.cli.context import Connection, describe, emit
from trustplane.cli.output import EXIT_DENIED, EXIT_USAGE, fail
from trustplane.cli.policy import checkpoint_of
from trustplane.cli.policy_view import show_decision
from trustplane.client import DEFAULT_URL, TrustplaneClientError

OIDC_TOKEN_VAR = "TRUSTPLANE_OIDC_TOKEN"  # noqa: S105 - a variable name, not a secret
AUDIENCE_VAR = "TRUSTPLANE_OIDC_AUDIENCE"
GITHUB_URL_VAR = "ACTIONS_ID_TOKEN_REQUEST_URL"
GITHUB_TOKEN_VAR = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"  # noqa: S105 - a variable name
GITHUB_TIMEOUT_SECONDS = 10.0


class CredentialError(Exception):
    """No credential could be found or obtained; the message says what to set."""


@dataclass(frozen=True)
class Credential:
    """A bearer token and where it came from (``token``, ``oidc-token``, ``github-actions``)."""

    token: str = field(repr=False)
    source: str


def github_http() -> httpx.Client:
    """The client that asks GitHub for the job's OIDC token (tests replace it)."""
    return httpx.Client(timeout=GITHUB_TIMEOUT_SECONDS)


#: Builds the HTTP client for the GitHub Actions token request; tests replace it.
github_http_factory: Callable[[], httpx.Client] = github_http


def ci_credential(
    token: str | None,
    environ: Mapping[str, str],
    audience: str | None = None,
    *,
    http: Callable[[], httpx.Client] | None = None,
) -> Credential:
    """The bearer token for a CI job, in order of preference:

    1. ``token`` (``--token`` or ``TRUSTPLANE_TOKEN``);
    2. ``TRUSTPLANE_OIDC_TOKEN``, a JWT the CI system hands the job (GitLab ``id_tokens``);
    3. in GitHub Actions (``ACTIONS_ID_TOKEN_REQUEST_URL`` and ``_TOKEN`` set, i.e. the job
       has ``permissions: id-token: write``), a token requested for ``audience`` (else
       ``TRUSTPLANE_OIDC_AUDIENCE``): the audience your tenant registered for the issuer.
    """
    if token:
        return Credential(token, "token")
    jwt = environ.get(OIDC_TOKEN_VAR, "").strip()
    if jwt:
        return Credential(jwt, "oidc-token")
    url, bearer = environ.get(GITHUB_URL_VAR), environ.get(GITHUB_TOKEN_VAR)
    if url and bearer:
        wanted = audience or environ.get(AUDIENCE_VAR)
        if not wanted:
            raise CredentialError(
                f"a GitHub Actions OIDC token needs an audience: pass --audience or set"
                f" {AUDIENCE_VAR} (the audience registered for the issuer in Trustplane)"
            )
        found = github_token(url, bearer, wanted, http or github_http_factory)
        return Credential(found, "github-actions")
    raise CredentialError(
        f"no credential: set TRUSTPLANE_TOKEN (or --token), {OIDC_TOKEN_VAR}, or run in"
        " GitHub Actions with 'permissions: id-token: write'"
    )


def github_token(
    request_url: str, request_token: str, audience: str, http: Callable[[], httpx.Client]
) -> str:
    """Ask the GitHub Actions runtime for the job's OIDC token for ``audience``."""
    joiner = "&" if "?" in request_url else "?"
    url = f"{request_url}{joiner}audience={quote(audience, safe='')}"
    headers = {"Authorization": f"Bearer {request_token}", "Accept": "application/json"}
    try:
        with http() as client:
            response = client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise CredentialError(f"cannot get the GitHub Actions OIDC token: {reason}") from None
    if not response.is_success:
        raise CredentialError(
            f"GitHub Actions did not issue an OIDC token (HTTP {response.status_code})"
        )
    try:
        value = response.json().get("value")
    except (ValueError, AttributeError):
        value = None
    if not isinstance(value, str) or not value:
        raise CredentialError("the GitHub Actions OIDC answer holds no token ('value')")
    return value


def gate(
    ctx: typer.Context,
    model: str = typer.Option(..., "--model", help="Model name or id."),
    version: int = typer.Option(..., "--version", help="Version number."),
    target: str = typer.Option(..., "--target", help="Environment the pipeline promotes to."),
    checkpoint: str = typer.Option("promote", "--checkpoint", help="promote or deploy."),
    audience: str | None = typer.Option(
        None,
        "--audience",
        envvar=AUDIENCE_VAR,
        help="Audience of the GitHub Actions OIDC token (when no token is given).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the decision as JSON."),
) -> None:
    """The CI gate: exit 0 allowed, 1 denied, 2 on any error. The decision is recorded."""
    obj = ctx.find_root().obj
    conn = obj if isinstance(obj, Connection) else Connection(url=DEFAULT_URL, token=None)
    wanted = checkpoint_of(checkpoint)
    try:
        credential = ci_credential(conn.token, os.environ, audience)
    except CredentialError as exc:
        fail(str(exc), EXIT_USAGE)
    try:
        with context.client_factory(conn.url, credential.token, conn.correlation_id) as tp:
            decision = tp.gate(model, version, target, checkpoint=wanted)
    except TrustplaneClientError as exc:
        fail(describe(exc), EXIT_USAGE)
    emit(decision, as_json, lambda: show_decision(decision, f"{model} {version} -> {target}"))
    if not decision.allowed:
        raise typer.Exit(EXIT_DENIED)
