"""SDK methods for who you are, tenants, environments, principals and tokens."""

from __future__ import annotations

from trustplane.client._base import BaseClient, segment
from trustplane.client.models import (
    BootstrapResult,
    EnvironmentRead,
    Page,
    PrincipalRead,
    TenantRead,
    TokenIssued,
    TokenRead,
    WhoAmI,
)


class IdentityMethods(BaseClient):
    def whoami(self) -> WhoAmI:
        """The principal behind the token, its tenant, grants and effective permissions."""
        return self._get(WhoAmI, "/whoami")

    # -- tenants and environments ---------------------------------------------------------

    def list_tenants(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[TenantRead]:
        """Your tenant; every tenant for a platform admin."""
        return self._get(Page[TenantRead], "/tenants", cursor=cursor, limit=limit)

    def create_tenant(
        self,
        name: str,
        *,
        display_name: str | None = None,
        admin_name: str | None = None,
        admin_email: str | None = None,
        idempotency_key: str | None = None,
    ) -> BootstrapResult:
        """Create a tenant with its default environments and first admin (platform admins).

        The admin's token is in the result and is never shown again.
        """
        body = {
            "name": name,
            "display_name": display_name,
            "admin_name": admin_name,
            "admin_email": admin_email,
        }
        return self._post(BootstrapResult, "/tenants", body, idempotency_key)

    def list_environments(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[EnvironmentRead]:
        return self._get(Page[EnvironmentRead], "/environments", cursor=cursor, limit=limit)

    def create_environment(
        self,
        name: str,
        *,
        region: str | None = None,
        sensitivity_ceiling: str | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> EnvironmentRead:
        """Add an environment; unset fields take the server's defaults."""
        body = {
            "name": name,
            "region": region,
            "sensitivity_ceiling": sensitivity_ceiling,
            "description": description,
        }
        return self._post(EnvironmentRead, "/environments", body, idempotency_key)

    # -- principals -----------------------------------------------------------------------

    def list_principals(
        self, *, kind: str | None = None, cursor: str | None = None, limit: int | None = None
    ) -> Page[PrincipalRead]:
        """Users and service accounts; ``kind`` is ``user`` or ``service_account``."""
        return self._get(Page[PrincipalRead], "/principals", kind=kind, cursor=cursor, limit=limit)

    def get_principal(self, principal_id: str) -> PrincipalRead:
        return self._get(PrincipalRead, f"/principals/{segment(principal_id)}")

    def create_user(
        self,
        name: str,
        *,
        display_name: str | None = None,
        email: str | None = None,
        idempotency_key: str | None = None,
    ) -> PrincipalRead:
        body = {"name": name, "display_name": display_name, "email": email}
        return self._post(PrincipalRead, "/principals/users", body, idempotency_key)

    def create_service_account(
        self,
        name: str,
        *,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> PrincipalRead:
        """A non-human principal, for CI jobs and services (tokens or OIDC trust)."""
        body = {"name": name, "description": description}
        return self._post(PrincipalRead, "/principals/service-accounts", body, idempotency_key)

    def disable_principal(
        self, principal_id: str, reason: str, *, idempotency_key: str | None = None
    ) -> PrincipalRead:
        """Disable a principal; the reason is recorded in the audit trail."""
        path = f"/principals/{segment(principal_id)}/disable"
        return self._post(PrincipalRead, path, {"reason": reason}, idempotency_key)

    # -- tokens ---------------------------------------------------------------------------

    def list_tokens(
        self,
        *,
        principal_id: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[TokenRead]:
        """Token metadata: yours, or anyone's with ``token.read``. Secrets are never listed."""
        return self._get(
            Page[TokenRead], "/tokens", principal_id=principal_id, cursor=cursor, limit=limit
        )

    def create_token(
        self,
        name: str | None = None,
        *,
        principal_id: str | None = None,
        expires_in_days: int | None = None,
        idempotency_key: str | None = None,
    ) -> TokenIssued:
        """Issue a token for yourself or (with ``token.issue``) another principal.

        ``TokenIssued.token`` is the secret: it is shown this once and cannot be retrieved.
        """
        body = {"name": name, "principal_id": principal_id, "expires_in_days": expires_in_days}
        return self._post(TokenIssued, "/tokens", body, idempotency_key)

    def revoke_token(self, token_id: str, *, idempotency_key: str | None = None) -> TokenRead:
        return self._post(TokenRead, f"/tokens/{segment(token_id)}/revoke", {}, idempotency_key)
