"""Reading a version's sign-offs with environment names (the policy stores ids)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from trustplane.audit import AuditActor
from trustplane.policy import approvals
from trustplane.policy.schemas import ApprovalRead
from trustplane.registry import versions
from trustplane.registry.repository import environment_names


def list_for_version(session: Session, actor: AuditActor, version_id: str) -> list[ApprovalRead]:
    version = versions.load(session, actor, version_id)
    rows = approvals.all_for_version(session, version.tenant_id, version.id)
    names = environment_names(session, (r.environment_id for r in rows))
    return [approvals.read(r, names.get(r.environment_id or "")) for r in rows]
