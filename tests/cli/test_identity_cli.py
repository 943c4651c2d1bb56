"""Client commands for whoami, tenants, environments and principals."""

from __future__ import annotations

from tests.cli.conftest import Cli
from tests.conftest import TenantCtx
from tests.factories import unique


def test_whoami(cli: Cli, tenant: TenantCtx) -> None:
    data = cli.json("whoami")
    assert (data["principal_id"], data["tenant_name"]) == (tenant.admin_id, tenant.name)
    assert "tenant-admin" in {g["role"] for g in data["grants"]}
    text = cli.ok("whoami")
    assert tenant.name in text
    assert tenant.admin_id in text
    assert "tenant-admin" in text
    assert "audit.read" in text


def test_tenants_list(cli: Cli, tenant: TenantCtx) -> None:
    data = cli.json("tenants", "list", "--all")
    assert tenant.name in {t["name"] for t in data["items"]}
    assert data["next_cursor"] is None
    assert tenant.name in cli.ok("tenants", "list", "--all")


def test_tenants_create_shows_the_token_once(cli: Cli) -> None:
    name = unique("org")
    data = cli.json("tenants", "create", name, "--display-name", "Org", "--admin", "root")
    assert (data["tenant"]["name"], data["admin"]["name"]) == (name, "root")
    assert data["token"]["token"].startswith("tp_")
    assert cli.json("whoami", token=data["token"]["token"])["tenant_name"] == name
    other = unique("org")
    text = cli.ok("tenants", "create", other)
    assert f"created tenant {other}" in text
    assert "shown once" in text
    assert "environments: dev (uk-south), staging (uk-south), prod (uk-south)" in text
    token = text.strip().splitlines()[-1]
    assert cli.json("whoami", token=token)["tenant_name"] == other


def test_environments(cli: Cli) -> None:
    created = cli.json(
        "environments",
        "create",
        "dr",
        "--region",
        "uk-west",
        "--sensitivity-ceiling",
        "confidential",
        "--description",
        "disaster recovery",
    )
    assert (created["name"], created["region"], created["sensitivity_ceiling"]) == (
        "dr",
        "uk-west",
        "confidential",
    )
    text = cli.ok("environments", "create", "qa")
    assert "qa" in text
    assert "uk-south" in text
    listed = cli.json("environments", "list")
    assert [e["name"] for e in listed["items"]] == ["dev", "staging", "prod", "dr", "qa"]
    table = cli.ok("environments", "list")
    assert "disaster recovery" in table
    assert "restricted-personal" in table


def test_principals(cli: Cli) -> None:
    user = cli.json(
        "principals", "create-user", unique("ada"), "--display-name", "Ada", "--email", "a@b.io"
    )
    assert (user["kind"], user["email"]) == ("user", "a@b.io")
    name = unique("ci")
    account = cli.json("principals", "create-service-account", name, "--description", "CI")
    assert (account["kind"], account["description"]) == ("service_account", "CI")
    other_account = unique("ci")
    assert other_account in cli.ok("principals", "create-service-account", other_account)
    bob = unique("bob")
    assert bob in cli.ok("principals", "create-user", bob)

    assert cli.json("principals", "show", user["id"])["id"] == user["id"]
    assert user["id"] in cli.ok("principals", "show", user["id"])

    accounts = cli.json("principals", "list", "--kind", "service_account")
    assert len(accounts["items"]) == 2
    assert {a["kind"] for a in accounts["items"]} == {"service_account"}
    assert name in cli.ok("principals", "list")

    disabled = cli.json("principals", "disable", user["id"], "--reason", "left")
    assert disabled["disabled_at"] is not None
    again = cli.error(1, "principals", "disable", user["id"], "--reason", "left")
    assert "409" in again
    other = cli.json("principals", "create-user", unique("cy"))
    assert other["id"] in cli.ok("principals", "disable", other["id"], "--reason", "left")


def test_list_pages_and_cursor_hint(cli: Cli) -> None:
    for _ in range(3):
        cli.json("principals", "create-user", unique("pg"))
    first = cli.json("principals", "list", "--limit", "2")
    assert len(first["items"]) == 2
    cursor = first["next_cursor"]
    assert cursor
    second = cli.json("principals", "list", "--limit", "2", "--cursor", cursor)
    assert len(second["items"]) == 2  # admin + three users
    assert second["next_cursor"] is None
    every = cli.json("principals", "list", "--limit", "1", "--all")
    assert [p["id"] for p in every["items"]] == [p["id"] for p in first["items"] + second["items"]]
    assert every["next_cursor"] is None
    text = cli.ok("principals", "list", "--limit", "2")
    assert f"--cursor {cursor}" in text
