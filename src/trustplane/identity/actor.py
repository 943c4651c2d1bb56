"""The actor: the resolved principal of a request or command, with its live grants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trustplane.audit import Origin
from trustplane.errors import Forbidden
from trustplane.identity.roles import ROLE_PERMISSIONS, Permission, Role

SYSTEM_ID = "system"


@dataclass(frozen=True, slots=True)
class Grant:
    """One active binding as seen by the authoriser."""

    binding_id: str
    role: Role
    environment_id: str | None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    principal_id: str
    name: str
    kind: str  # user | service_account | system
    auth_method: str  # token | oidc | local
    tenant_id: str | None
    origin: Origin
    grants: tuple[Grant, ...] = ()
    token_id: str | None = None
    tenant_name: str | None = None
    token_last_used_at: datetime | None = None

    @classmethod
    def local_system(cls, origin: Origin, tenant_id: str | None = None) -> Actor:
        """Whoever runs a local command with direct database access (an operator)."""
        return cls(SYSTEM_ID, "local operator", "system", "local", tenant_id, origin)

    def granting(self, permission: Permission, environment_id: str | None = None) -> list[Grant]:
        """The grants that allow ``permission`` (in ``environment_id`` if one is given).

        A tenant-wide grant allows everywhere; an environment grant only in its environment.
        """
        return [
            g
            for g in self.grants
            if permission in ROLE_PERMISSIONS[g.role]
            and (g.environment_id is None or g.environment_id == environment_id)
        ]

    def can(self, permission: Permission, environment_id: str | None = None) -> bool:
        return bool(self.granting(permission, environment_id))

    def granting_somewhere(self, permission: Permission) -> list[Grant]:
        """The grants that allow ``permission`` tenant-wide or in any one environment."""
        return [g for g in self.grants if permission in ROLE_PERMISSIONS[g.role]]

    def permissions(self) -> list[str]:
        """Tenant-wide permissions, sorted (what ``whoami`` shows)."""
        held = {
            p.value
            for g in self.grants
            if g.environment_id is None
            for p in ROLE_PERMISSIONS[g.role]
        }
        return sorted(held)

    def require(
        self,
        permission: Permission,
        *,
        target_kind: str,
        target_id: str,
        environment_id: str | None = None,
        environment: str | None = None,
        action: str | None = None,
    ) -> str:
        """Raise :class:`Forbidden` (which the edge turns into a denial event) unless allowed.

        ``environment`` names ``environment_id`` in the message and the denial event;
        ``action`` is what the event records as attempted (default: the permission). Returns
        the role through which the actor holds the permission there.
        """
        grants = self.granting(permission, environment_id)
        if not grants:
            where = f" in environment '{environment}'" if environment else ""
            raise Forbidden(
                f"'{self.name}' lacks permission '{permission}'{where}",
                action=action or permission.value,
                target_kind=target_kind,
                target_id=target_id,
                permission=permission.value,
                environment=environment,
            )
        return str(grants[0].role)
