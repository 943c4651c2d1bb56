from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.factories import bootstrap_tenant
from tests.registry.kit import Team, make_team


@pytest.fixture
def team(client: TestClient, tenant: TenantCtx) -> Team:
    return make_team(client, tenant)


@pytest.fixture
def other_tenant(session_factory: sessionmaker[Session]) -> TenantCtx:
    return bootstrap_tenant(session_factory)
