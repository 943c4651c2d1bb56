"""Production pointers: one production version per model per environment, with history.

``production_pointers`` holds the current pointer of each (model, environment);
``pointer_history`` (insert-only) holds every change with its ``valid_from``, which answers
"which version was in production in prod at time T" (time travel).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from trustplane.db.base import new_id
from trustplane.errors import Conflict, PreconditionFailed
from trustplane.identity.models import Environment
from trustplane.registry.models import ModelVersion, PointerHistory, ProductionPointer
from trustplane.registry.repository import environment_by_name, resolve_model
from trustplane.registry.schemas import PointerRead


@dataclass(frozen=True, slots=True)
class Change:
    """Who changed a pointer, why, and which audit event says so."""

    action: str
    actor_id: str
    intent: str
    event_id: str
    at: datetime


def point(
    session: Session,
    version: ModelVersion,
    env: Environment,
    change: Change,
    replaces: str | None = None,
) -> str | None:
    """Make ``version`` the production pointer of its model in ``env``; return the previous one.

    ``replaces`` (optional) is the version the caller expects to replace (``"none"``: no
    pointer yet); when another one is there, the promotion answers 412. The pointer row's own
    version also guards the replacement, so a concurrent change is never overwritten unseen.
    """
    key = (version.tenant_id, version.model_id, env.id)
    pointer = session.get(ProductionPointer, key, with_for_update=True)
    previous = pointer.model_version_id if pointer is not None else None
    if replaces is not None and replaces != (previous or "none"):
        raise PreconditionFailed(
            f"'{env.name}' runs {previous or 'no version'}, not {replaces}; read it again",
            current=previous,
        )
    if pointer is None:
        session.add(
            ProductionPointer(
                tenant_id=version.tenant_id,
                model_id=version.model_id,
                environment_id=env.id,
                model_version_id=version.id,
                since=change.at,
                set_by=change.actor_id,
                row_version=1,
            )
        )
    elif previous == version.id:
        raise Conflict(f"version {version.version} is already in production in '{env.name}'")
    else:
        replaced = session.execute(
            update(ProductionPointer)
            .where(
                ProductionPointer.tenant_id == key[0],
                ProductionPointer.model_id == key[1],
                ProductionPointer.environment_id == key[2],
                ProductionPointer.row_version == pointer.row_version,
            )
            .values(
                model_version_id=version.id,
                since=change.at,
                set_by=change.actor_id,
                row_version=pointer.row_version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if replaced.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"the production pointer of '{env.name}' changed concurrently; retry")
        session.expire(pointer)
    _history(session, version.tenant_id, version.model_id, env.id, version.id, previous, change)
    session.flush()
    return previous


def clear_all(session: Session, version: ModelVersion, change: Change) -> list[str]:
    """End every pointer ``version`` holds (retire, suspend); return the environment ids."""
    envs = list(
        session.scalars(
            select(ProductionPointer.environment_id)
            .where(ProductionPointer.model_version_id == version.id)
            .order_by(ProductionPointer.environment_id)
            .with_for_update()
        )
    )
    if not envs:
        return []
    session.execute(
        delete(ProductionPointer)
        .where(ProductionPointer.model_version_id == version.id)
        .execution_options(synchronize_session=False)
    )
    for env_id in envs:
        _history(session, version.tenant_id, version.model_id, env_id, None, version.id, change)
    session.flush()
    return envs


def _history(
    session: Session,
    tenant_id: str,
    model_id: str,
    env_id: str,
    version_id: str | None,
    previous: str | None,
    change: Change,
) -> None:
    session.add(
        PointerHistory(
            id=new_id("ph"),
            tenant_id=tenant_id,
            model_id=model_id,
            environment_id=env_id,
            model_version_id=version_id,
            previous_version_id=previous,
            valid_from=change.at,
            action=change.action,
            actor_id=change.actor_id,
            intent=change.intent,
            event_id=change.event_id,
        )
    )


def current(session: Session, actor_tenant: str, model_ref: str) -> list[PointerRead]:
    """The model's production pointers now, one per environment that has one."""
    model = resolve_model(session, actor_tenant, model_ref)
    rows = session.execute(
        select(ProductionPointer, Environment.name, ModelVersion.version)
        .join(Environment, Environment.id == ProductionPointer.environment_id)
        .join(ModelVersion, ModelVersion.id == ProductionPointer.model_version_id)
        .where(ProductionPointer.tenant_id == actor_tenant, ProductionPointer.model_id == model.id)
        .order_by(Environment.name)
    )
    return [
        PointerRead(
            model_id=model.id,
            environment=env,
            model_version_id=p.model_version_id,
            version=number,
            valid_from=p.since,
        )
        for p, env, number in rows
    ]


def at(
    session: Session, tenant_id: str, model_ref: str, env_name: str, when: datetime
) -> PointerRead:
    """Which version was in production in ``env_name`` at ``when`` (None: none was)."""
    model = resolve_model(session, tenant_id, model_ref)
    env = environment_by_name(session, tenant_id, env_name)
    scope = (
        PointerHistory.tenant_id == tenant_id,
        PointerHistory.model_id == model.id,
        PointerHistory.environment_id == env.id,
    )
    row = session.scalar(
        select(PointerHistory)
        .where(*scope, PointerHistory.valid_from <= when)
        .order_by(PointerHistory.valid_from.desc(), PointerHistory.id.desc())
        .limit(1)
    )
    following = session.scalar(
        select(PointerHistory.valid_from)
        .where(*scope, PointerHistory.valid_from > when)
        .order_by(PointerHistory.valid_from)
        .limit(1)
    )
    number = None
    if row is not None and row.model_version_id is not None:
        number = session.scalar(
            select(ModelVersion.version).where(ModelVersion.id == row.model_version_id)
        )
    return PointerRead(
        model_id=model.id,
        environment=env.name,
        model_version_id=row.model_version_id if row else None,
        version=number,
        valid_from=row.valid_from if row else None,
        valid_to=following,
    )


__all__ = ["Change", "at", "clear_all", "current", "point"]
