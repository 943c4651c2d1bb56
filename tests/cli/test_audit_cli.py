"""The audit events command: filters, pages and cursors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.cli.conftest import Cli, invoke
from tests.conftest import TenantCtx
from tests.factories import add_member, unique


def test_audit_events_filters(cli: Cli, tenant: TenantCtx) -> None:
    user = cli.json("principals", "create-user", unique("ann"))
    created = cli.json("audit", "events", "--action", "principal.create", "--target-id", user["id"])
    [event] = created["items"]
    assert (event["actor"]["id"], event["target"]["kind"], event["outcome"]) == (
        tenant.admin_id,
        "principal",
        "allowed",
    )
    same = cli.json(
        "audit",
        "events",
        "--actor",
        tenant.admin_id,
        "--target-kind",
        "principal",
        "--target-id",
        user["id"],
        "--correlation-id",
        event["correlation_id"],
        "--outcome",
        "allowed",
        "--since",
        "2000-01-01T00:00:00Z",
        "--until",
        "2999-01-01T00:00:00+00:00",
    )
    assert [e["id"] for e in same["items"]] == [event["id"]]
    text = cli.ok("audit", "events", "--target-id", user["id"])
    assert "principal.create" in text
    assert user["name"] in text
    assert cli.json("audit", "events", "--outcome", "denied")["items"] == []


def test_audit_events_follow_cursors(cli: Cli) -> None:
    for _ in range(4):
        cli.json("principals", "create-user", unique("ev"))
    every = cli.json("audit", "events", "--limit", "500")["items"]
    assert len(every) > 5
    one_page = cli.json("audit", "events", "--limit", "2")
    assert len(one_page["items"]) == 2
    assert one_page["next_cursor"] is not None
    followed = cli.json("audit", "events", "--limit", "2", "--all")
    assert [e["seq"] for e in followed["items"]] == [e["seq"] for e in every]
    assert followed["next_cursor"] is None
    text = cli.ok("audit", "events", "--limit", "2")
    assert f"--cursor {one_page['next_cursor']}" in text


def test_correlation_id_option_is_recorded(cli: Cli) -> None:
    name = unique("tagged")
    result = invoke(
        "--token", cli.token, "--correlation-id", "cli-run-7", "principals", "create-user", name
    )
    assert result.exit_code == 0, result.stderr
    tagged = cli.json("audit", "events", "--correlation-id", "cli-run-7")
    assert [e["target"]["name"] for e in tagged["items"]] == [name]


def test_audit_events_bad_filters_are_input_errors(cli: Cli) -> None:
    assert "since" in cli.error(2, "audit", "events", "--since", "yesterday")
    assert "outcome" in cli.error(2, "audit", "events", "--outcome", "maybe")
    assert "limit" in cli.error(2, "audit", "events", "--limit", "0")


def test_denials_show_with_their_reason(cli: Cli, client: TestClient, tenant: TenantCtx) -> None:
    member = add_member(client, tenant)
    cli.error(1, "principals", "list", token=member.token)
    denied = cli.json("audit", "events", "--outcome", "denied", "--actor", member.id)
    [event] = denied["items"]
    assert event["reason"]
    text = cli.ok("audit", "events", "--outcome", "denied")
    assert "denied: " in text
    assert member.name in text
