"""Model cards over the API, the SDK and the CLI: formats, references, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session, sessionmaker

from tests.cli.conftest import Cli, one_line_error
from tests.conftest import TenantCtx
from tests.evidence.test_card_facts import INTENDED, LIMITATIONS, Recorded, record_release
from tests.factories import add_member, bootstrap_tenant
from tests.registry.kit import API, ok, unique
from trustplane.cli import context
from trustplane.client import NotFound, TrustplaneClient, ValidationFailed


@pytest.fixture
def recorded(client: TestClient, tenant: TenantCtx) -> Recorded:
    return record_release(client, tenant)


@pytest.fixture
def cli(client: TestClient, tenant: TenantCtx, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The real CLI, its SDK bound to the in-process API (as in tests/cli)."""

    def factory(url: str, token: str, correlation_id: str | None) -> TrustplaneClient:
        return TrustplaneClient("http://testserver", token, http=client)

    monkeypatch.setattr(context, "client_factory", factory)
    return Cli(tenant.admin_token)


def _card(client: TestClient, ref: str, headers: dict[str, str], **params: str) -> Response:
    return client.get(f"{API}/model-versions/{ref}/card", params=params, headers=headers)


def _without_time(markdown: str) -> str:
    return "\n".join(line for line in markdown.splitlines() if not line.startswith("Generated at"))


def test_the_card_in_each_format(client: TestClient, recorded: Recorded) -> None:
    reader = recorded.release.team.risk.headers
    ref = recorded.version_id
    markdown = _card(client, ref, reader)
    assert markdown.status_code == 200, markdown.text
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.text.startswith("# Model card: ")
    html = _card(client, ref, reader, format="html")
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.text.startswith("<!DOCTYPE html>") and INTENDED in html.text
    as_json = _card(client, ref, reader, format="json")
    assert as_json.headers["content-type"] == "application/json"
    body = as_json.json()
    assert set(body) == {"facts", "markdown"}
    assert body["facts"]["model"]["limitations"] == LIMITATIONS
    assert _without_time(body["markdown"]) == _without_time(markdown.text)
    by_number = _card(client, f"{recorded.release.built.model_name}@1", reader, format="json")
    assert by_number.json()["facts"]["version"]["id"] == ref


def test_the_card_route_refuses_what_it_should(
    client: TestClient, recorded: Recorded, session_factory: sessionmaker[Session]
) -> None:
    reader = recorded.release.team.risk.headers
    ref = recorded.version_id
    unknown = _card(client, ref, reader, format="pdf")
    assert unknown.status_code == 422
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["type"].endswith("/validation-error")
    bad = _card(client, "credit-model", reader)
    assert bad.status_code == 400 and "MODEL@N" in bad.json()["detail"]
    other = bootstrap_tenant(session_factory)
    outsider = add_member(client, other, "auditor").headers
    for foreign in (ref, f"{recorded.release.built.model_name}@1"):
        missing = _card(client, foreign, outsider)
        assert missing.status_code == 404, missing.text
        assert missing.json()["type"].endswith("/not-found")
    nobody = add_member(client, recorded.release.team.tenant).headers
    assert _card(client, ref, nobody).status_code == 403


def test_the_sdk_returns_the_card_text(
    client: TestClient, recorded: Recorded, session_factory: sessionmaker[Session]
) -> None:
    token = recorded.release.team.risk.token
    with TrustplaneClient("http://testserver", token, http=client) as tp:
        markdown = tp.model_card(recorded.version_id)
        facts = json.loads(tp.model_card(f"{recorded.release.built.model_name}@1", "json"))
        html = tp.model_card(recorded.version_id, format="html")
        with pytest.raises(ValidationFailed):
            tp.model_card(recorded.version_id, "pdf")
    assert markdown.startswith("# Model card: ") and "| risk tier | high |" in markdown
    assert facts["facts"]["version"]["id"] == recorded.version_id
    assert html.startswith("<!DOCTYPE html>")
    outsider = add_member(client, bootstrap_tenant(session_factory), "auditor")
    with (
        TrustplaneClient("http://testserver", outsider.token, http=client) as tp,
        pytest.raises(NotFound),
    ):
        tp.model_card(recorded.version_id)


def test_the_cli_prints_or_writes_the_card(
    cli: Cli,
    client: TestClient,
    recorded: Recorded,
    tmp_path: Path,
    session_factory: sessionmaker[Session],
) -> None:
    token = recorded.release.team.risk.token
    printed = cli.ok("model", "card", "--version", recorded.version_id, token=token)
    assert printed.startswith("# Model card: ") and f"- {LIMITATIONS[0]}\n" in printed
    target = tmp_path / "card.html"
    ref = f"{recorded.release.built.model_name}@1"
    said = cli.ok(
        "model", "card", "--version", ref, "--format", "html", "-o", str(target), token=token
    )
    assert said.strip() == f"wrote the html card of {ref} to {target}"
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    facts = json.loads(cli.ok("model", "card", "--version", ref, "--format", "json", token=token))
    assert facts["facts"]["model"]["intended_use"] == INTENDED

    assert "names no model version" in cli.error(2, "model", "card", "--version", "x", token=token)
    assert "has no version 9" in cli.error(
        2, "model", "card", "--version", f"{recorded.release.built.model_name}@9", token=token
    )
    bad_format = cli.error(2, "model", "card", "--version", ref, "--format", "pdf", token=token)
    assert "--format must be one of markdown, html, json" in bad_format
    unwritable = tmp_path / "missing" / "card.md"
    result = cli("model", "card", "--version", ref, "-o", str(unwritable), token=token)
    assert result.exit_code == 2 and "cannot write the card" in one_line_error(result)
    outsider = add_member(client, bootstrap_tenant(session_factory), "auditor")
    assert "not found" in cli.error(
        2, "model", "card", "--version", recorded.version_id, token=outsider.token
    )


def test_model_register_takes_limitations(cli: Cli, client: TestClient, tenant: TenantCtx) -> None:
    trainer = add_member(client, tenant, "trainer")
    name = unique("m")
    created = cli.json(
        "model",
        "register",
        name,
        "--limitation",
        "not for applicants under 21",
        "--limitation",
        "UK data only",
        token=trainer.token,
    )
    assert created["limitations"] == ["not for applicants under 21", "UK data only"]
    read = ok(client.get(f"{API}/models/{name}", headers=trainer.headers))
    assert read["limitations"] == created["limitations"]
