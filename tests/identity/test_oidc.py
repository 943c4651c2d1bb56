"""OIDC workload identity end to end: a signed token acts as a service account, or is refused.

Each test plays the issuer: it generates keys, registers them through the API as the tenant
admin, signs tokens with PyJWT and calls the API with them as bearer credentials.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.factories import bootstrap_tenant
from tests.identity.oidc_kit import (
    SUB,
    SigningKey,
    add_rule,
    assert_unauthenticated,
    b64json,
    b64url,
    bearer,
    ec_key,
    ed_key,
    jwks,
    new_issuer,
    register_issuer,
    rsa_key,
    service_account,
    trust,
)
from trustplane.identity.oidc import JwksError, conditions_hold, parse_jwks

WHOAMI = "/api/v1/whoami"


# --- acting as the service account -------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [rsa_key("rs256"), rsa_key("ps256", "PS256"), ec_key(), ed_key()],
    ids=["RS256", "PS256", "ES256", "EdDSA"],
)
def test_token_acts_as_the_mapped_service_account(
    client: TestClient, tenant: TenantCtx, key: SigningKey
) -> None:
    t = trust(client, tenant, key)
    response = client.get(WHOAMI, headers=bearer(t.token()))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["principal_id"] == t.account_id
    assert body["kind"] == "service_account"
    assert body["auth_method"] == "oidc"
    assert body["tenant_id"] == tenant.id
    assert body["grants"] == []


def test_key_without_alg_accepts_any_algorithm_of_its_family(
    client: TestClient, tenant: TenantCtx
) -> None:
    key = rsa_key("no-alg", "PS384")
    issuer = new_issuer()
    registered = register_issuer(
        client, tenant, issuer, "aud-1", keys={"keys": [key.jwk(with_alg=False)]}
    )
    account = service_account(client, tenant)
    add_rule(client, tenant, registered["id"], account)
    token = key.sign({"iss": issuer, "aud": ["other", "aud-1"], "sub": SUB, "exp": _in(60)})
    assert client.get(WHOAMI, headers=bearer(token)).json()["principal_id"] == account


def test_role_bound_to_the_account_applies_through_oidc(
    client: TestClient, tenant: TenantCtx
) -> None:
    t = trust(client, tenant)
    headers = bearer(t.token())
    assert client.get("/api/v1/environments", headers=headers).status_code == 403
    granted = client.post(
        "/api/v1/bindings",
        json={"principal_id": t.account_id, "role": "trainer", "reason": "CI trains models"},
        headers=tenant.admin_headers,
    )
    assert granted.status_code == 201, granted.text
    body = client.get(WHOAMI, headers=headers).json()
    assert [g["role"] for g in body["grants"]] == ["trainer"]
    assert "run.record" in body["permissions"]
    assert "model.approve" not in body["permissions"]
    assert client.get("/api/v1/environments", headers=headers).status_code == 200
    assert client.get("/api/v1/principals", headers=headers).status_code == 403


def test_workload_identity_cannot_mint_a_token_for_itself(
    client: TestClient, tenant: TenantCtx
) -> None:
    t = trust(client, tenant)
    response = client.post("/api/v1/tokens", json={"name": "escape"}, headers=bearer(t.token()))
    assert response.status_code == 403
    assert "workload identity" in response.json()["detail"]
    events = client.get(
        "/api/v1/audit/events",
        params={"outcome": "denied", "actor": t.account_id},
        headers=tenant.admin_headers,
    ).json()["items"]
    assert [(e["action"], e["actor"]["auth"]) for e in events] == [("token.issue", "oidc")]


def test_expiry_within_leeway_is_accepted(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    token = t.token(exp=_in(-5), nbf=_in(10), iat=_in(10))  # default leeway: 30 seconds
    assert client.get(WHOAMI, headers=bearer(token)).status_code == 200


# --- refused tokens ----------------------------------------------------------------------------


def test_signature_by_another_key_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    impostor = SigningKey(rsa_key("impostor").private, t.key.kid, "RS256")
    response = client.get(WHOAMI, headers=bearer(t.token(key=impostor)))
    assert_unauthenticated(response, "OIDC token signature is invalid")


def test_tampered_claims_are_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    header, _, signature = t.token(sub="repo:acme/other:ref:refs/heads/main").split(".")
    forged = ".".join([header, b64json(t.claims()), signature])
    assert_unauthenticated(client.get(WHOAMI, headers=bearer(forged)), "signature is invalid")


def test_alg_none_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    unsigned = f"{b64json({'alg': 'none', 'typ': 'JWT'})}.{b64json(t.claims())}."
    response = client.get(WHOAMI, headers=bearer(unsigned))
    assert_unauthenticated(response, "OIDC token is unsigned (alg 'none')")


@pytest.mark.parametrize("alg", ["NONE", "HS512", "ES512", "RS1"])
def test_algorithms_outside_the_allow_list_are_refused(
    client: TestClient, tenant: TenantCtx, alg: str
) -> None:
    t = trust(client, tenant)
    token = f"{b64json({'alg': alg, 'kid': t.key.kid})}.{b64json(t.claims())}.{b64url(b'x')}"
    response = client.get(WHOAMI, headers=bearer(token))
    if alg == "NONE":
        assert_unauthenticated(response, "unsigned (alg 'none')")
    else:
        assert_unauthenticated(response, f"algorithm '{alg}' is not allowed", "RS256", "EdDSA")


def test_hs256_with_the_public_key_as_secret_is_refused(
    client: TestClient, tenant: TenantCtx
) -> None:
    """The classic key-confusion attack: HMAC keyed with the issuer's published key."""
    t = trust(client, tenant)
    pem = t.key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = (
        f"{b64json({'alg': 'HS256', 'typ': 'JWT', 'kid': t.key.kid})}.{b64json(t.claims())}"
    )
    mac = hmac.new(pem, signing_input.encode("ascii"), hashlib.sha256).digest()
    response = client.get(WHOAMI, headers=bearer(f"{signing_input}.{b64url(mac)}"))
    assert_unauthenticated(response, "OIDC token algorithm 'HS256' is not allowed")


def test_algorithm_other_than_the_keys_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)  # the JWK pins RS256
    pss = SigningKey(t.key.private, t.key.kid, "PS256")
    response = client.get(WHOAMI, headers=bearer(t.token(key=pss)))
    assert_unauthenticated(response, "algorithm 'PS256' does not match key 'rsa-1' (RS256)")


def test_unknown_kid_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    stranger = rsa_key("rotated-away")
    response = client.get(WHOAMI, headers=bearer(t.token(key=stranger)))
    assert_unauthenticated(response, "key id 'rotated-away' is not in the JWKS of issuer")


def test_expired_token_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    response = client.get(WHOAMI, headers=bearer(t.token(exp=_in(-3600), iat=_in(-7200))))
    assert_unauthenticated(response, "OIDC token expired at ")


def test_missing_exp_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    token = t.key.sign({k: v for k, v in t.claims().items() if k != "exp"})
    assert_unauthenticated(client.get(WHOAMI, headers=bearer(token)), "no 'exp' claim")


def test_non_numeric_exp_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    response = client.get(WHOAMI, headers=bearer(t.token(exp="tomorrow")))
    assert_unauthenticated(response, "'exp' must be a number")


def test_not_yet_valid_token_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    response = client.get(WHOAMI, headers=bearer(t.token(nbf=_in(3600))))
    assert_unauthenticated(response, "OIDC token is not valid before ")


def test_token_issued_in_the_future_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    response = client.get(WHOAMI, headers=bearer(t.token(iat=_in(3600), nbf=None)))
    assert_unauthenticated(response, "OIDC token was issued in the future")


def test_unregistered_issuer_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    response = client.get(WHOAMI, headers=bearer(t.token(iss="https://evil.example.com")))
    assert_unauthenticated(
        response, "OIDC issuer 'https://evil.example.com' is not trusted (no tenant registered it)"
    )


def test_missing_issuer_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    response = client.get(WHOAMI, headers=bearer(t.token(iss=None)))
    assert_unauthenticated(response, "OIDC token has no 'iss' claim")


def test_wrong_audience_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    response = client.get(WHOAMI, headers=bearer(t.token(aud="someone-else")))
    assert_unauthenticated(response, "OIDC token audience is not accepted by issuer")
    missing = client.get(WHOAMI, headers=bearer(t.token(aud=None)))
    assert_unauthenticated(missing, "OIDC token has no 'aud' claim")


def test_malformed_token_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    response = client.get(WHOAMI, headers=bearer("not.a.jwt"))
    assert_unauthenticated(response, "malformed OIDC token")


def test_no_matching_rule_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    feature = "repo:acme/credit-model:ref:refs/heads/feature"
    response = client.get(WHOAMI, headers=bearer(t.token(sub=feature)))
    assert_unauthenticated(response, "no OIDC rule of issuer", f"(sub '{feature}')")


def test_glob_rule_matches_and_refuses(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    account = service_account(client, tenant)
    add_rule(client, tenant, t.issuer_id, account, ("sub", "glob", "repo:acme/*:environment:prod"))
    ok = client.get(WHOAMI, headers=bearer(t.token(sub="repo:acme/fraud:environment:prod")))
    assert ok.json()["principal_id"] == account
    other_org = t.token(sub="repo:evil/fraud:environment:prod")
    assert_unauthenticated(client.get(WHOAMI, headers=bearer(other_org)), "no OIDC rule")
    case = t.token(sub="repo:ACME/fraud:environment:prod")  # matching is case-sensitive
    assert_unauthenticated(client.get(WHOAMI, headers=bearer(case)), "no OIDC rule")


def test_every_condition_must_hold(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    account = service_account(client, tenant)
    add_rule(
        client,
        tenant,
        t.issuer_id,
        account,
        ("repository", "equals", "acme/pricing"),
        ("ref", "glob", "refs/tags/v*"),
    )
    both = t.token(sub="x", repository="acme/pricing", ref="refs/tags/v1.2.0")
    assert client.get(WHOAMI, headers=bearer(both)).json()["principal_id"] == account
    one = t.token(sub="x", repository="acme/pricing", ref="refs/heads/main")
    assert_unauthenticated(client.get(WHOAMI, headers=bearer(one)), "no OIDC rule")


def test_non_string_claims_never_match(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    account = service_account(client, tenant)
    add_rule(client, tenant, t.issuer_id, account, ("run_attempt", "equals", "1"))
    add_rule(client, tenant, t.issuer_id, account, ("groups", "glob", "*"))
    for claims in ({"run_attempt": 1}, {"groups": ["admins"]}, {"run_attempt": True}):
        token = t.token(sub="x", **claims)
        assert_unauthenticated(client.get(WHOAMI, headers=bearer(token)), "no OIDC rule")
    assert client.get(WHOAMI, headers=bearer(t.token(sub="x", run_attempt="1"))).status_code == 200


def test_disabled_rule_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    _disable(client, tenant, f"/api/v1/oidc/rules/{t.rule_id}/disable")
    response = client.get(WHOAMI, headers=bearer(t.token()))
    assert_unauthenticated(response, "every OIDC rule that matches this token is disabled")


def test_disabled_issuer_is_refused(client: TestClient, tenant: TenantCtx) -> None:
    t = trust(client, tenant)
    _disable(client, tenant, f"/api/v1/oidc/issuers/{t.issuer_id}/disable")
    response = client.get(WHOAMI, headers=bearer(t.token()))
    assert_unauthenticated(response, f"OIDC issuer '{t.issuer}' is disabled")


def test_rules_of_two_accounts_matching_is_refused_as_ambiguous(
    client: TestClient, tenant: TenantCtx
) -> None:
    t = trust(client, tenant)
    add_rule(client, tenant, t.issuer_id, t.account_id, ("sub", "glob", "repo:acme/*"))
    assert client.get(WHOAMI, headers=bearer(t.token())).status_code == 200  # same account
    other = service_account(client, tenant)
    add_rule(client, tenant, t.issuer_id, other, ("sub", "glob", "repo:acme/credit-*"))
    response = client.get(WHOAMI, headers=bearer(t.token()))
    assert_unauthenticated(response, "matches rules of 2 service accounts", "ambiguous")


def test_disabled_service_account_is_refused_and_recorded(
    client: TestClient, tenant: TenantCtx
) -> None:
    t = trust(client, tenant)
    _disable(client, tenant, f"/api/v1/principals/{t.account_id}/disable")
    response = client.get(WHOAMI, headers=bearer(t.token()))
    assert_unauthenticated(response, "is disabled")
    events = client.get(
        "/api/v1/audit/events",
        params={"outcome": "denied", "action": "auth.authenticate", "actor": t.account_id},
        headers=tenant.admin_headers,
    ).json()["items"]
    assert [e["actor"]["auth"] for e in events] == ["oidc"]


# --- several tenants trusting one issuer -------------------------------------------------------


def test_same_issuer_in_two_tenants_resolves_by_audience(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    other = bootstrap_tenant(session_factory)
    key = rsa_key()
    a = trust(client, tenant, key)
    registered = register_issuer(client, other, a.issuer, "aud-of-b", keys=jwks(key))
    b_account = service_account(client, other)
    add_rule(client, other, registered["id"], b_account)
    as_a = client.get(WHOAMI, headers=bearer(a.token())).json()
    assert (as_a["principal_id"], as_a["tenant_id"]) == (a.account_id, tenant.id)
    as_b = client.get(WHOAMI, headers=bearer(a.token(aud="aud-of-b"))).json()
    assert (as_b["principal_id"], as_b["tenant_id"]) == (b_account, other.id)
    _disable(client, other, f"/api/v1/oidc/issuers/{registered['id']}/disable")
    refused = client.get(WHOAMI, headers=bearer(a.token(aud="aud-of-b")))
    assert_unauthenticated(refused, "is disabled")
    assert client.get(WHOAMI, headers=bearer(a.token())).status_code == 200


def test_another_tenants_keys_do_not_verify_for_this_tenant(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    other = bootstrap_tenant(session_factory)
    a = trust(client, tenant, rsa_key())
    b_key = ec_key("b-key")
    registered = register_issuer(client, other, a.issuer, "aud-of-b", keys=jwks(b_key))
    add_rule(client, other, registered["id"], service_account(client, other))
    # B's key signs a token for A's audience: A's registration does not hold that key, and
    # B's registration, which does, wants another audience.
    response = client.get(WHOAMI, headers=bearer(a.token(key=b_key)))
    assert_unauthenticated(response, "OIDC token audience is not accepted")


def test_same_issuer_and_audience_in_two_tenants_is_ambiguous(
    client: TestClient, tenant: TenantCtx, session_factory: sessionmaker[Session]
) -> None:
    other = bootstrap_tenant(session_factory)
    a = trust(client, tenant)
    registered = register_issuer(client, other, a.issuer, a.audience, keys=jwks(a.key))
    add_rule(client, other, registered["id"], service_account(client, other))
    response = client.get(WHOAMI, headers=bearer(a.token()))
    assert_unauthenticated(response, "ambiguous")


# --- keys in a file ----------------------------------------------------------------------------


def test_jwks_file_is_reread_so_keys_rotate_by_replacing_it(
    client: TestClient, tenant: TenantCtx, tmp_path: Path
) -> None:
    old, new = rsa_key("2024"), ec_key("2025")
    path = tmp_path / "jwks.json"
    _write(path, jwks(old))
    issuer = new_issuer()
    registered = register_issuer(client, tenant, issuer, "aud", jwks_path=str(path))
    assert registered["key_ids"] == ["2024"]
    account = service_account(client, tenant)
    add_rule(client, tenant, registered["id"], account)
    claims = {"iss": issuer, "aud": "aud", "sub": SUB, "exp": _in(300)}
    old_token, new_token = old.sign(claims), new.sign(claims)
    assert client.get(WHOAMI, headers=bearer(old_token)).json()["principal_id"] == account
    assert_unauthenticated(client.get(WHOAMI, headers=bearer(new_token)), "key id '2025'")

    _write(path, jwks(new))
    assert_unauthenticated(client.get(WHOAMI, headers=bearer(old_token)), "key id '2024'")
    assert client.get(WHOAMI, headers=bearer(new_token)).json()["principal_id"] == account

    same_kid = SigningKey(ec_key().private, "2025", "ES256")
    forged = same_kid.sign(claims)
    assert_unauthenticated(client.get(WHOAMI, headers=bearer(forged)), "signature is invalid")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "the JWKS file cannot be read"),
        (b"{not json", "the JWKS file is not valid JSON"),
        (b'{"keys": []}', "no usable public signing key"),
        (b'{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', "private or secret key material"),
    ],
    ids=["missing", "garbage", "empty", "secret"],
)
def test_unusable_jwks_file_fails_closed(
    client: TestClient, tenant: TenantCtx, tmp_path: Path, content: bytes | None, reason: str
) -> None:
    key = rsa_key()
    path = tmp_path / "jwks.json"
    _write(path, jwks(key))
    issuer = new_issuer()
    registered = register_issuer(client, tenant, issuer, "aud", jwks_path=str(path))
    add_rule(client, tenant, registered["id"], service_account(client, tenant))
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)
    token = key.sign({"iss": issuer, "aud": "aud", "sub": SUB, "exp": _in(300)})
    detail = assert_unauthenticated(
        client.get(WHOAMI, headers=bearer(token)), "JWKS of OIDC issuer", reason, "refused"
    )
    assert str(tmp_path) not in detail  # server paths stay on the server
    listed = client.get("/api/v1/oidc/issuers", headers=tenant.admin_headers)
    assert listed.status_code == 200
    assert [i["key_ids"] for i in listed.json()["items"] if i["id"] == registered["id"]] == [[]]


# --- pure parts --------------------------------------------------------------------------------


def test_parse_jwks_keeps_usable_signing_keys_only() -> None:
    good = rsa_key().jwk()
    encryption = {**ec_key("enc").jwk(), "use": "enc"}
    p521 = {"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA", "kid": "p521"}
    none_alg = {**rsa_key().jwk(), "alg": "none", "kid": "none"}
    keys = parse_jwks({"keys": [good, encryption, p521, none_alg, "junk"]})
    assert [k.kid for k in keys] == ["rsa-1"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "JSON object with a 'keys' array"),
        ({"keys": {}}, "JSON object with a 'keys' array"),
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, "private or secret key material"),
        ({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "alg": "HS256"}]}, "'HS256'"),
        ({"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}, "no usable"),
    ],
)
def test_parse_jwks_explains_why_nothing_is_usable(data: Any, message: str) -> None:
    with pytest.raises(JwksError) as caught:
        parse_jwks(data)
    assert message in str(caught.value)


def test_parse_jwks_refuses_weak_rsa_keys() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    weak = SigningKey(small, "w", "RS256")
    with pytest.raises(JwksError, match="below the minimum"):
        parse_jwks(jwks(weak))


def test_private_jwk_is_refused() -> None:
    key = rsa_key()
    private = json.loads(json.dumps(key.jwk()))
    private["d"] = "AQAB"
    with pytest.raises(JwksError, match="private or secret key material"):
        parse_jwks({"keys": [key.jwk(), private]})


@pytest.mark.parametrize(
    ("conditions", "claims", "holds"),
    [
        ([], {"sub": "a"}, False),
        ([{"claim": "sub", "match": "equals", "value": "a"}], {"sub": "a"}, True),
        ([{"claim": "sub", "match": "equals", "value": "a"}], {"sub": "A"}, False),
        ([{"claim": "sub", "match": "glob", "value": "a*"}], {"sub": "abc"}, True),
        ([{"claim": "sub", "match": "glob", "value": "a?c"}], {"sub": "abbc"}, False),
        ([{"claim": "sub", "match": "glob", "value": "[ab]x"}], {"sub": "bx"}, True),
        ([{"claim": "n", "match": "equals", "value": "1"}], {"n": 1}, False),
        ([{"claim": "n", "match": "glob", "value": "*"}], {}, False),
        ([{"claim": "sub", "match": "regex", "value": ".*"}], {"sub": "a"}, False),
        (
            [
                {"claim": "sub", "match": "glob", "value": "*"},
                {"claim": "env", "match": "equals", "value": "prod"},
            ],
            {"sub": "a", "env": "dev"},
            False,
        ),
    ],
)
def test_conditions(conditions: list[dict[str, str]], claims: dict[str, Any], holds: bool) -> None:
    assert conditions_hold(conditions, claims) is holds


# --- helpers -----------------------------------------------------------------------------------


def _in(seconds: int) -> int:
    return int(time.time()) + seconds


def _write(path: Path, data: dict[str, Any]) -> None:
    """Replace the file atomically, as an operator rotating keys should."""
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps(data), encoding="utf-8")
    staging.replace(path)


def _disable(client: TestClient, tenant: TenantCtx, path: str) -> None:
    response = client.post(path, json={"reason": "test"}, headers=tenant.admin_headers)
    assert response.status_code == 200, response.text
