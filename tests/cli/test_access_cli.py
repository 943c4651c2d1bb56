"""Client commands for tokens, roles, bindings and access review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.cli.conftest import Cli
from tests.conftest import TenantCtx
from tests.factories import unique


def test_tokens_create_list_revoke(cli: Cli, tenant: TenantCtx) -> None:
    account = cli.json("principals", "create-service-account", unique("ci"))
    issued = cli.json(
        "tokens", "create", "--name", "ci", "--principal", account["id"], "--expires-in-days", "7"
    )
    assert (issued["principal_id"], issued["name"]) == (account["id"], "ci")
    assert cli.json("whoami", token=issued["token"])["principal_id"] == account["id"]

    text = cli.ok("tokens", "create", "--name", "laptop")
    assert "shown once" in text
    assert f"for {tenant.admin_id}" in text
    secret = text.strip().splitlines()[-1]
    assert cli.json("whoami", token=secret)["principal_id"] == tenant.admin_id

    listed = cli.json("tokens", "list", "--principal", account["id"])
    assert [t["id"] for t in listed["items"]] == [issued["id"]]
    assert "token" not in listed["items"][0]
    table = cli.ok("tokens", "list")
    assert "laptop" in table
    assert secret not in table

    revoked = cli.json("tokens", "revoke", issued["id"])
    assert revoked["revoked_at"] is not None
    assert "unauthenticated" in cli.error(1, "whoami", token=issued["token"])
    other = cli.json("tokens", "create", "--name", "spare")
    assert other["id"] in cli.ok("tokens", "revoke", other["id"])


def test_roles_list(cli: Cli) -> None:
    roles = {r["name"]: r for r in cli.json("roles", "list")}
    assert roles["auditor"]["tenant_wide_only"] is True
    assert "model.approve" in roles["release-approver"]["permissions"]
    text = cli.ok("roles", "list")
    assert "release-approver" in text
    assert "Signs off model versions for release." in text


def test_bindings_grant_list_revoke(cli: Cli) -> None:
    user = cli.json("principals", "create-user", unique("bob"))
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    binding = cli.json(
        "bindings",
        "grant",
        "--principal",
        user["id"],
        "--role",
        "trainer",
        "--environment",
        "dev",
        "--expires-at",
        expires,
        "--reason",
        "joins the ML team",
    )
    assert (binding["role"], binding["reason"]) == ("trainer", "joins the ML team")
    assert binding["environment_id"] is not None
    assert binding["expires_at"] is not None
    text = cli.ok(
        "bindings", "grant", "--principal", user["id"], "--role", "deployer", "--reason", "ops"
    )
    assert "deployer" in text

    listed = cli.json("bindings", "list", "--principal", user["id"])
    assert sorted(b["role"] for b in listed["items"]) == ["deployer", "trainer"]
    assert "joins the ML team" in cli.ok("bindings", "list", "--principal", user["id"])

    revoked = cli.json("bindings", "revoke", binding["id"], "--reason", "moved teams")
    assert revoked["revoke_reason"] == "moved teams"
    current = cli.json("bindings", "list", "--principal", user["id"])
    assert [b["role"] for b in current["items"]] == ["deployer"]
    history = cli.json("bindings", "list", "--principal", user["id"], "--include-revoked")
    assert len(history["items"]) == 2
    deployer = current["items"][0]["id"]
    assert deployer in cli.ok("bindings", "revoke", deployer, "--reason", "moved teams")


def test_access_review(cli: Cli) -> None:
    user = cli.json("principals", "create-user", unique("eve"))
    soon = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    binding = cli.json(
        "bindings",
        "grant",
        "--principal",
        user["id"],
        "--role",
        "auditor",
        "--expires-at",
        soon,
        "--reason",
        "quarterly audit",
    )
    review = cli.json("access", "review", "--expiring-within-days", "7", "--unused-for-days", "30")
    assert (review["expiring_within_days"], review["unused_for_days"]) == (7, 30)
    found = {f["binding"]["id"]: f for f in review["findings"]}
    assert found[binding["id"]]["reasons"] == ["expiring"]
    text = cli.ok("access", "review", "--expiring-within-days", "7")
    assert user["name"] in text
    assert "expiring" in text
    later = cli.json("access", "review", "--expiring-within-days", "1")
    assert binding["id"] not in {f["binding"]["id"] for f in later["findings"]}
