"""SDK methods for roles, bindings, access review and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from trustplane.client._base import BaseClient, segment
from trustplane.client.models import (
    AccessReview,
    AuditEventRead,
    BindingRead,
    Page,
    RoleRead,
)


class AccessMethods(BaseClient):
    def list_roles(self) -> list[RoleRead]:
        """Every role and its permissions (the server's table; a short, unpaginated list)."""
        data = self.request("GET", "/roles")
        return [RoleRead.from_api(item) for item in data]

    def list_bindings(
        self,
        *,
        principal_id: str | None = None,
        include_revoked: bool = False,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[BindingRead]:
        return self._get(
            Page[BindingRead],
            "/bindings",
            principal_id=principal_id,
            include_revoked=include_revoked or None,
            cursor=cursor,
            limit=limit,
        )

    def grant(
        self,
        principal_id: str,
        role: str,
        reason: str,
        *,
        environment: str | None = None,
        expires_at: datetime | str | None = None,
        idempotency_key: str | None = None,
    ) -> BindingRead:
        """Bind a role to a principal, tenant-wide or for one environment, with a reason."""
        body = {
            "principal_id": principal_id,
            "role": role,
            "reason": reason,
            "environment": environment,
            "expires_at": expires_at,
        }
        return self._post(BindingRead, "/bindings", body, idempotency_key)

    def revoke_binding(
        self, binding_id: str, reason: str, *, idempotency_key: str | None = None
    ) -> BindingRead:
        path = f"/bindings/{segment(binding_id)}/revoke"
        return self._post(BindingRead, path, {"reason": reason}, idempotency_key)

    def access_review(
        self,
        *,
        expiring_within_days: int | None = None,
        unused_for_days: int | None = None,
    ) -> AccessReview:
        """Bindings a reviewer should look at: expired, expiring, unused, or holder disabled."""
        return self._get(
            AccessReview,
            "/access/review",
            expiring_within_days=expiring_within_days,
            unused_for_days=unused_for_days,
        )

    # -- audit ----------------------------------------------------------------------------

    def audit_events(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target_kind: str | None = None,
        target_id: str | None = None,
        correlation_id: str | None = None,
        outcome: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[AuditEventRead]:
        """One page of the tenant's audit events in ledger order (oldest first).

        Filters combine with AND; ``since``/``until`` must carry a timezone.
        """
        return self._get(
            Page[AuditEventRead],
            "/audit/events",
            actor=actor,
            action=action,
            target_kind=target_kind,
            target_id=target_id,
            correlation_id=correlation_id,
            outcome=outcome,
            since=since,
            until=until,
            cursor=cursor,
            limit=limit,
        )

    def iter_audit_events(self, **filters: Any) -> Iterator[AuditEventRead]:
        """Every matching event, following cursors; takes ``audit_events``' filters."""
        return self.paginate(self.audit_events, **filters)
