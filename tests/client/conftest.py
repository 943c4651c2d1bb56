"""SDK fixtures: a client bound to the in-process app through its TestClient transport."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TenantCtx
from trustplane.client import TrustplaneClient

BASE_URL = "http://testserver"


def sdk_for(
    client: TestClient, token: str | None, *, correlation_id: str | None = None
) -> TrustplaneClient:
    return TrustplaneClient(BASE_URL, token, http=client, correlation_id=correlation_id)


@pytest.fixture
def sdk(client: TestClient, tenant: TenantCtx) -> TrustplaneClient:
    """The SDK signed in as the tenant's admin."""
    return sdk_for(client, tenant.admin_token)
