"""Plain typed factory functions for tests."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from ulid import ULID

from tests.conftest import TenantCtx
from trustplane.audit import Origin
from trustplane.db.session import unit_of_work
from trustplane.identity.actor import Actor
from trustplane.identity.schemas import TenantCreate
from trustplane.identity.tenants import create_tenant


def unique(prefix: str) -> str:
    return f"{prefix}-{str(ULID())[-10:].lower()}"


def bootstrap_tenant(factory: sessionmaker[Session], *, platform_admin: bool = True) -> TenantCtx:
    """What ``trustplane admin bootstrap`` does, for a tenant with a unique name."""
    with unit_of_work(factory) as session:
        result = create_tenant(
            session,
            Actor.local_system(Origin("test-bootstrap")),
            TenantCreate(name=unique("t")),
            token_ttl_days=30,
            platform_admin=platform_admin,
        )
    return TenantCtx(result.tenant.id, result.tenant.name, result.admin.id, result.token.token)


@dataclass
class Member:
    id: str
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def add_member(
    client: TestClient,
    tenant: TenantCtx,
    *roles: str,
    kind: str = "users",
    environment: str | None = None,
) -> Member:
    """Create a principal in ``tenant`` holding ``roles`` and issue it a token."""
    name = unique("member")
    response = client.post(
        f"/api/v1/principals/{kind}", json={"name": name}, headers=tenant.admin_headers
    )
    assert response.status_code == 201, response.text
    principal_id = response.json()["id"]
    for role in roles:
        body: dict[str, object] = {
            "principal_id": principal_id,
            "role": role,
            "reason": "test set-up",
        }
        if environment is not None:
            body["environment"] = environment
        granted = client.post("/api/v1/bindings", json=body, headers=tenant.admin_headers)
        assert granted.status_code == 201, granted.text
    issued = client.post(
        "/api/v1/tokens",
        json={"name": "test", "principal_id": principal_id},
        headers=tenant.admin_headers,
    )
    assert issued.status_code == 201, issued.text
    return Member(principal_id, name, issued.json()["token"])
