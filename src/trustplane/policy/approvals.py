"""Sign-offs: a principal, in a role, approves or rejects one version's artifact digest.

The registry checks who may sign (role in the environment, separation of duties, the digest
being the version's) before calling :func:`add`; here the sign-off is stored and audited.
Sign-offs are insert-only: a later rejection does not erase an approval, the policy reads both.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor, Target, record
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id
from trustplane.policy.models import Approval
from trustplane.policy.schemas import ApprovalRead


@dataclass(frozen=True, slots=True)
class Signoff:
    """What the registry vouches for: the version, where, which artifact, in which role."""

    tenant_id: str
    model_version_id: str
    label: str
    environment_id: str | None
    environment: str | None
    artifact_digest: str
    decision: str
    role: str
    comment: str


def add(session: Session, actor: AuditActor, signoff: Signoff) -> ApprovalRead:
    event = record(
        session,
        actor,
        f"model.signoff.{signoff.decision}",
        Target("model_version", signoff.model_version_id, signoff.label),
        details=EventDetails(
            environment=signoff.environment,
            digests=[signoff.artifact_digest],
            reason=signoff.comment,
            payload={"role": signoff.role, "decision": signoff.decision},
        ),
    )
    row = Approval(
        id=new_id("apr"),
        tenant_id=signoff.tenant_id,
        model_version_id=signoff.model_version_id,
        environment_id=signoff.environment_id,
        artifact_digest=signoff.artifact_digest,
        decision=signoff.decision,
        role=signoff.role,
        principal_id=actor.principal_id,
        principal_name=actor.name,
        comment=signoff.comment,
        at=event.occurred_at,
        event_id=event.id,
    )
    session.add(row)
    session.flush()
    return read(row, signoff.environment)


def for_version(
    session: Session, tenant_id: str, version_id: str, environment_id: str | None
) -> list[Approval]:
    """Sign-offs that speak for ``environment_id``: its own, and those for every environment."""
    where: ColumnElement[bool] = Approval.environment_id.is_(None)
    if environment_id is not None:
        where = or_(where, Approval.environment_id == environment_id)
    return list(
        session.scalars(
            select(Approval)
            .where(Approval.tenant_id == tenant_id, Approval.model_version_id == version_id, where)
            .order_by(Approval.id)
        )
    )


def all_for_version(session: Session, tenant_id: str, version_id: str) -> list[Approval]:
    return list(
        session.scalars(
            select(Approval)
            .where(Approval.tenant_id == tenant_id, Approval.model_version_id == version_id)
            .order_by(Approval.id)
        )
    )


def read(row: Approval, environment: str | None) -> ApprovalRead:
    return ApprovalRead(
        id=row.id,
        model_version_id=row.model_version_id,
        environment=environment,
        artifact_digest=row.artifact_digest,
        decision=row.decision,
        role=row.role,
        principal_id=row.principal_id,
        principal_name=row.principal_name,
        comment=row.comment,
        at=row.at,
        event_id=row.event_id,
    )
