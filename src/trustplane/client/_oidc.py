"""SDK methods for OIDC workload identity: trusted issuers and the rules that map tokens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trustplane.client._base import BaseClient, segment
from trustplane.client.models import OidcCondition, OidcIssuerRead, OidcRuleRead, Page


class OidcMethods(BaseClient):
    def list_oidc_issuers(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[OidcIssuerRead]:
        return self._get(Page[OidcIssuerRead], "/oidc/issuers", cursor=cursor, limit=limit)

    def create_oidc_issuer(
        self,
        issuer: str,
        audience: str,
        *,
        jwks: Mapping[str, Any] | None = None,
        jwks_path: str | None = None,
        idempotency_key: str | None = None,
    ) -> OidcIssuerRead:
        """Trust an issuer's signing keys, given inline (``jwks``) or as a file on the server.

        The server expects exactly one of the two.
        """
        body = {"issuer": issuer, "audience": audience, "jwks": jwks, "jwks_path": jwks_path}
        return self._post(OidcIssuerRead, "/oidc/issuers", body, idempotency_key)

    def disable_oidc_issuer(
        self, issuer_id: str, reason: str, *, idempotency_key: str | None = None
    ) -> OidcIssuerRead:
        path = f"/oidc/issuers/{segment(issuer_id)}/disable"
        return self._post(OidcIssuerRead, path, {"reason": reason}, idempotency_key)

    def list_oidc_rules(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[OidcRuleRead]:
        return self._get(Page[OidcRuleRead], "/oidc/rules", cursor=cursor, limit=limit)

    def create_oidc_rule(
        self,
        issuer_id: str,
        service_account_id: str,
        conditions: Sequence[OidcCondition | Mapping[str, str]],
        *,
        description: str = "",
        idempotency_key: str | None = None,
    ) -> OidcRuleRead:
        """Map tokens from an issuer whose claims meet every condition to a service account."""
        body = {
            "issuer_id": issuer_id,
            "service_account_id": service_account_id,
            "conditions": [_condition(c) for c in conditions],
            "description": description,
        }
        return self._post(OidcRuleRead, "/oidc/rules", body, idempotency_key)

    def disable_oidc_rule(
        self, rule_id: str, reason: str, *, idempotency_key: str | None = None
    ) -> OidcRuleRead:
        path = f"/oidc/rules/{segment(rule_id)}/disable"
        return self._post(OidcRuleRead, path, {"reason": reason}, idempotency_key)


def _condition(value: OidcCondition | Mapping[str, str]) -> dict[str, str]:
    if isinstance(value, OidcCondition):
        return {"claim": value.claim, "match": value.match, "value": value.value}
    return dict(value)
