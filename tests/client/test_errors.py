"""Error classes: each problem type the API answers with maps to one SDK class."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.client.conftest import sdk_for
from tests.conftest import TenantCtx
from tests.factories import add_member, unique
from trustplane.client import (
    Conflict,
    ConnectionFailed,
    Forbidden,
    IdempotencyConflict,
    NotFound,
    PayloadTooLarge,
    ServerError,
    TrustplaneAPIError,
    TrustplaneClient,
    Unauthenticated,
    UnexpectedResponse,
    ValidationFailed,
)
from trustplane.client.errors import error_class, from_response

PROBLEMS = "https://trustplane.dev/problems/"


def test_unauthenticated(client: TestClient) -> None:
    with pytest.raises(Unauthenticated) as caught:
        sdk_for(client, "tp_not-a-real-token").whoami()
    assert (caught.value.status, caught.value.code) == (401, "unauthenticated")
    with pytest.raises(Unauthenticated):
        sdk_for(client, None).whoami()


def test_forbidden_carries_the_problem_members(client: TestClient, tenant: TenantCtx) -> None:
    member = add_member(client, tenant)  # no roles
    tp = sdk_for(client, member.token, correlation_id="deny-me-1")
    with pytest.raises(Forbidden) as caught:
        tp.list_principals()
    error = caught.value
    assert (error.status, error.type, error.title) == (403, PROBLEMS + "forbidden", "Forbidden")
    assert error.correlation_id == "deny-me-1"
    assert error.extra["instance"] == "/api/v1/principals"
    assert "principal.read" in error.detail
    assert "HTTP 403" in str(error)


def test_not_found(sdk: TrustplaneClient) -> None:
    with pytest.raises(NotFound) as caught:
        sdk.get_principal("prn_does-not-exist")
    assert caught.value.code == "not-found"
    with pytest.raises(NotFound):
        sdk.revoke_binding("bnd_nope", "cleanup")


def test_path_ids_cannot_escape_their_segment(sdk: TrustplaneClient) -> None:
    with pytest.raises(NotFound):
        sdk.get_principal("../tenants")


def test_validation_failed_422_and_400(sdk: TrustplaneClient) -> None:
    with pytest.raises(ValidationFailed) as caught:
        sdk.create_environment("bad", sensitivity_ceiling="secret")
    assert (caught.value.status, caught.value.code) == (422, "validation-error")
    assert caught.value.extra["errors"][0]["loc"] == ["body", "sensitivity_ceiling"]
    with pytest.raises(ValidationFailed) as invalid:
        sdk.create_user(unique("u"), idempotency_key="k" * 201)
    assert (invalid.value.status, invalid.value.code) == (400, "invalid-input")
    with pytest.raises(ValidationFailed):
        sdk.audit_events(since="yesterday")


def test_conflict(sdk: TrustplaneClient) -> None:
    sdk.create_environment("twice")
    with pytest.raises(Conflict) as caught:
        sdk.create_environment("twice")
    assert caught.value.status == 409
    assert not isinstance(caught.value, IdempotencyConflict)


def test_payload_too_large(sdk: TrustplaneClient) -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        sdk.create_service_account("big", description="x" * 1_100_000)
    assert caught.value.status == 413


def test_idempotent_replay(sdk: TrustplaneClient) -> None:
    name = unique("replayed")
    first = sdk.create_user(name, idempotency_key="create-user-1")
    again = sdk.create_user(name, idempotency_key="create-user-1")
    assert again.id == first.id
    assert again.api_json() == first.api_json()
    assert [p.id for p in sdk.paginate(sdk.list_principals) if p.name == name] == [first.id]
    with pytest.raises(IdempotencyConflict) as caught:
        sdk.create_user(unique("other"), idempotency_key="create-user-1")
    assert caught.value.code == "idempotency-conflict"
    assert isinstance(caught.value, Conflict)


def test_secrets_are_never_replayed(sdk: TrustplaneClient) -> None:
    sdk.create_token("once", idempotency_key="token-1")
    with pytest.raises(IdempotencyConflict):
        sdk.create_token("once", idempotency_key="token-1")


def test_connection_failed_names_the_server() -> None:
    with (
        TrustplaneClient("http://127.0.0.1:9", "tp_x", timeout=2) as tp,
        pytest.raises(ConnectionFailed) as caught,
    ):
        tp.whoami()
    assert "cannot reach Trustplane at http://127.0.0.1:9" in str(caught.value)


def _mock(status: int, content: bytes, content_type: str) -> TrustplaneClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers={"content-type": content_type})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return TrustplaneClient("http://proxy.example", "tp_x", http=http)


def test_a_proxy_error_page_maps_by_status() -> None:
    tp = _mock(502, b"<html><body>Bad gateway</body></html>", "text/html")
    with pytest.raises(ServerError) as caught:
        tp.whoami()
    assert (caught.value.status, caught.value.type) == (502, "about:blank")
    assert "Bad gateway" in caught.value.detail


def test_a_success_without_json_is_unexpected() -> None:
    with pytest.raises(UnexpectedResponse):
        _mock(200, b"<html>login page</html>", "text/html").whoami()


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("unauthenticated", 401, Unauthenticated),
        ("forbidden", 403, Forbidden),
        ("not-found", 404, NotFound),
        ("conflict", 409, Conflict),
        ("idempotency-conflict", 409, IdempotencyConflict),
        ("validation-error", 422, ValidationFailed),
        ("invalid-input", 400, ValidationFailed),
        ("malformed-json", 400, ValidationFailed),
        ("payload-too-large", 413, PayloadTooLarge),
        ("internal-error", 500, ServerError),
        ("not-found", 409, NotFound),  # the type wins over the status
        ("policy-denied", 409, Conflict),  # unknown type: by status
        ("method-not-allowed", 405, TrustplaneAPIError),
        ("maintenance", 503, ServerError),
    ],
)
def test_error_class_by_type_then_status(
    code: str, status: int, expected: type[TrustplaneAPIError]
) -> None:
    assert error_class(PROBLEMS + code, status) is expected
    response = httpx.Response(
        status,
        json={"type": PROBLEMS + code, "title": "T", "status": status, "detail": "d", "x": 1},
    )
    error = from_response(response)
    assert type(error) is expected
    assert (error.detail, error.extra) == ("d", {"x": 1})
