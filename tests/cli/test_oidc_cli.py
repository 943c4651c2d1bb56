"""OIDC commands: trusted issuers and claim rules, then a workload signing in with them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from tests.cli.conftest import Cli
from tests.factories import unique

SUB = "repo:acme/credit-model:ref:refs/heads/main"


class Issuer:
    """Plays a CI provider's OIDC issuer with one ES256 key."""

    def __init__(self) -> None:
        self.url = f"https://{unique('ci')}.example.com"
        self.key = ec.generate_private_key(ec.SECP256R1())

    def jwks(self) -> dict[str, Any]:
        public = jwt.get_algorithm_by_name("ES256").to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": "k1", "alg": "ES256"}]}

    def token(self, audience: str, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": audience, "iat": now, "exp": now + 300, **claims}
        return jwt.encode(body, self.key, algorithm="ES256", headers={"kid": "k1"})


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def add_issuer(url: str, audience: str, *source: str) -> list[str]:
    """Arguments of ``oidc issuers add``; ``source`` is ``--jwks FILE`` or ``--jwks-path P``."""
    return ["oidc", "issuers", "add", "--issuer", url, "--audience", audience, *source]


def add_rule(issuer_id: str, account_id: str, *claims: str) -> list[str]:
    """Arguments of ``oidc rules add`` with one ``--claim`` per ``CLAIM=VALUE``."""
    args = ["oidc", "rules", "add", "--issuer-id", issuer_id, "--service-account", account_id]
    for claim in claims:
        args += ["--claim", claim]
    return args


def test_issuer_and_rule_let_a_workload_sign_in(cli: Cli, tmp_path: Path) -> None:
    issuer = Issuer()
    jwks_file = _write(tmp_path / "jwks.json", issuer.jwks())
    added = cli.json(*add_issuer(issuer.url, "trustplane", "--jwks", str(jwks_file)))
    assert (added["issuer"], added["jwks_source"], added["key_ids"]) == (
        issuer.url,
        "inline",
        ["k1"],
    )
    account = cli.json("principals", "create-service-account", unique("ci"))
    claims = add_rule(added["id"], account["id"], f"sub={SUB}", "repository=acme/credit-model")
    rule = cli.json(*claims, "--description", "main branch builds")
    assert rule["description"] == "main branch builds"
    assert rule["conditions"] == [
        {"claim": "sub", "match": "equals", "value": SUB},
        {"claim": "repository", "match": "equals", "value": "acme/credit-model"},
    ]
    workload = issuer.token("trustplane", sub=SUB, repository="acme/credit-model")
    me = cli.json("whoami", token=workload)
    assert (me["principal_id"], me["auth_method"]) == (account["id"], "oidc")
    stranger = issuer.token("trustplane", sub="repo:evil/fork", repository="evil/fork")
    assert "HTTP 401" in cli.error(1, "whoami", token=stranger)


def test_issuers_list_and_disable(cli: Cli, tmp_path: Path) -> None:
    issuer = Issuer()
    jwks_file = _write(tmp_path / "jwks.json", issuer.jwks())
    text = cli.ok(*add_issuer(issuer.url, "aud-1", "--jwks", str(jwks_file)))
    assert issuer.url in text
    assert "k1" in text
    server_file = _write(tmp_path / "server-jwks.json", issuer.jwks())
    by_path = cli.json(*add_issuer(issuer.url, "aud-2", "--jwks-path", str(server_file)))
    assert (by_path["jwks_source"], by_path["jwks_path"]) == ("file", str(server_file))

    listed = cli.json("oidc", "issuers", "list")
    assert [i["audience"] for i in listed["items"]] == ["aud-1", "aud-2"]
    assert str(server_file) in cli.ok("oidc", "issuers", "list")

    disabled = cli.json("oidc", "issuers", "disable", by_path["id"], "--reason", "rotated out")
    assert disabled["disabled_at"] is not None
    first = listed["items"][0]["id"]
    assert first in cli.ok("oidc", "issuers", "disable", first, "--reason", "rotated out")
    assert "409" in cli.error(1, "oidc", "issuers", "disable", first, "--reason", "again")


def test_rules_glob_list_and_disable(cli: Cli, tmp_path: Path) -> None:
    issuer = Issuer()
    jwks_file = _write(tmp_path / "jwks.json", issuer.jwks())
    issuer_id = cli.json(*add_issuer(issuer.url, "aud", "--jwks", str(jwks_file)))["id"]
    account = cli.json("principals", "create-service-account", unique("ci"))["id"]
    text = cli.ok(*add_rule(issuer_id, account, "sub=repo:acme/*"), "--glob")
    assert "sub ~ repo:acme/*" in text
    listed = cli.json("oidc", "rules", "list")
    [rule] = listed["items"]
    assert rule["conditions"] == [{"claim": "sub", "match": "glob", "value": "repo:acme/*"}]
    assert account in cli.ok("oidc", "rules", "list")
    assert cli.json("oidc", "rules", "disable", rule["id"], "--reason", "done")["disabled_at"]
    second = cli.json(*add_rule(issuer_id, account, "sub=repo:acme/x"))["id"]
    assert second in cli.ok("oidc", "rules", "disable", second, "--reason", "done")


def test_oidc_usage_errors(cli: Cli, tmp_path: Path) -> None:
    base = add_issuer("https://ci.example.com", "a")
    assert "exactly one" in cli.error(2, *base)
    assert "exactly one" in cli.error(2, *base, "--jwks", "x.json", "--jwks-path", "/x.json")
    assert "cannot read" in cli.error(2, *base, "--jwks", str(tmp_path / "missing.json"))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert "not valid JSON" in cli.error(2, *base, "--jwks", str(broken))
    listed = _write(tmp_path / "list.json", [1, 2])
    assert "JSON object" in cli.error(2, *base, "--jwks", str(listed))
    private = {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}
    assert "HTTP 4" in cli.error(2, *base, "--jwks", str(_write(tmp_path / "p.json", private)))
    assert "CLAIM=VALUE" in cli.error(2, *add_rule("oidc_x", "prn_x", "no-equals-sign"))
    assert "not-found" in cli.error(2, *add_rule("oidc_x", "prn_x", "sub=x"))


def test_oidc_admin_needs_access_admin(cli: Cli, tmp_path: Path) -> None:
    manager = cli.json("principals", "create-user", unique("am"))
    grant = ["--principal", manager["id"], "--role", "access-manager", "--reason", "runs access"]
    cli.json("bindings", "grant", *grant)
    token = cli.json("tokens", "create", "--principal", manager["id"])["token"]
    jwks_file = _write(tmp_path / "jwks.json", Issuer().jwks())
    args = add_issuer("https://ci.example.com", "a", "--jwks", str(jwks_file))
    denied = cli.error(1, *args, token=token)
    assert "HTTP 403 forbidden" in denied
