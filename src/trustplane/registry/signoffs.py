"""Reading a version's sign-offs with environment names (the policy stores ids)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor
from trustplane.identity.models import Environment
from trustplane.policy import approvals
from trustplane.policy.schemas import ApprovalRead
from trustplane.registry import versions


def list_for_version(session: Session, actor: AuditActor, version_id: str) -> list[ApprovalRead]:
    version = versions.load(session, actor, version_id)
    rows = approvals.all_for_version(session, version.tenant_id, version.id)
    ids = {r.environment_id for r in rows if r.environment_id}
    found = session.execute(select(Environment.id, Environment.name).where(Environment.id.in_(ids)))
    names = {env_id: name for env_id, name in found}
    return [approvals.read(r, names.get(r.environment_id or "")) for r in rows]
