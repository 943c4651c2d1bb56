"""Test kit for OIDC workload identity: keys, JWKS, signed tokens and API set-up helpers."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from fastapi.testclient import TestClient

from tests.conftest import TenantCtx
from tests.factories import unique

SUB = "repo:acme/credit-model:ref:refs/heads/main"
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class SigningKey:
    """A private key the test plays issuer with, and its public JWK."""

    private: PrivateKey
    kid: str
    alg: str

    def jwk(self, *, with_alg: bool = True) -> dict[str, Any]:
        public = jwt.get_algorithm_by_name(self.alg).to_jwk(self.private.public_key(), as_dict=True)
        public["kid"] = self.kid
        if with_alg:
            public["alg"] = self.alg
        return public

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        return jwt.encode(
            claims, self.private, algorithm=self.alg, headers={"kid": self.kid, **headers}
        )


@cache
def _rsa(size: int, seed: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def rsa_key(kid: str = "rsa-1", alg: str = "RS256") -> SigningKey:
    """An RSA key (cached per kid, so the suite generates few)."""
    return SigningKey(_rsa(2048, kid), kid, alg)


def ec_key(kid: str = "ec-1") -> SigningKey:
    return SigningKey(ec.generate_private_key(ec.SECP256R1()), kid, "ES256")


def ed_key(kid: str = "ed-1") -> SigningKey:
    return SigningKey(ed25519.Ed25519PrivateKey.generate(), kid, "EdDSA")


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [k.jwk() for k in keys]}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(obj: dict[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_issuer() -> str:
    """A unique issuer URL: issuers are looked up across tenants, so tests never share one."""
    return f"https://{unique('ci')}.example.com"


def register_issuer(
    client: TestClient,
    tenant: TenantCtx,
    issuer: str,
    audience: str,
    *,
    keys: dict[str, Any] | None = None,
    jwks_path: str | None = None,
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/oidc/issuers",
        json={"issuer": issuer, "audience": audience, "jwks": keys, "jwks_path": jwks_path},
        headers=tenant.admin_headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def service_account(client: TestClient, tenant: TenantCtx) -> str:
    response = client.post(
        "/api/v1/principals/service-accounts",
        json={"name": unique("ci-sa")},
        headers=tenant.admin_headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def add_rule(
    client: TestClient,
    tenant: TenantCtx,
    issuer_id: str,
    account_id: str,
    *conditions: tuple[str, str, str],
) -> dict[str, Any]:
    """A rule from ``(claim, match, value)`` triples (default: ``sub`` equals :data:`SUB`)."""
    triples = conditions or (("sub", "equals", SUB),)
    response = client.post(
        "/api/v1/oidc/rules",
        json={
            "issuer_id": issuer_id,
            "service_account_id": account_id,
            "conditions": [{"claim": c, "match": m, "value": v} for c, m, v in triples],
            "description": "test rule",
        },
        headers=tenant.admin_headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@dataclass
class Trust:
    """An issuer registered by a tenant, with one rule mapping :data:`SUB` to a service account."""

    issuer: str
    audience: str
    issuer_id: str
    account_id: str
    rule_id: str
    key: SigningKey

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": SUB,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
        }
        base.update(overrides)
        return {k: v for k, v in base.items() if v is not None}

    def token(self, key: SigningKey | None = None, **overrides: Any) -> str:
        return (key or self.key).sign(self.claims(**overrides))


def trust(
    client: TestClient, tenant: TenantCtx, key: SigningKey | None = None, *, audience: str = ""
) -> Trust:
    """Register a fresh issuer with ``key`` inline and a rule ``sub == SUB`` to a new account."""
    key = key or rsa_key()
    issuer = new_issuer()
    audience = audience or f"trustplane:{tenant.name}"
    registered = register_issuer(client, tenant, issuer, audience, keys=jwks(key))
    account = service_account(client, tenant)
    rule = add_rule(client, tenant, registered["id"], account)
    return Trust(issuer, audience, registered["id"], account, rule["id"], key)


def assert_unauthenticated(response: Any, *fragments: str) -> str:
    """A 401 problem whose detail holds every fragment; returns the detail."""
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "https://trustplane.dev/problems/unauthenticated"
    detail = str(body["detail"])
    for fragment in fragments:
        assert fragment in detail, detail
    return detail
