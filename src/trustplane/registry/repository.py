"""Tenant-scoped queries of the registry. Another tenant's id looks exactly like an unknown id."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor
from trustplane.db.base import utcnow
from trustplane.errors import InvalidInput, NotFound
from trustplane.identity.models import Environment
from trustplane.registry.models import (
    Dataset,
    DatasetVersion,
    Feature,
    FeatureVersion,
    LineageEdge,
    Model,
    ModelVersion,
    ProductionPointer,
    Run,
)

M = TypeVar(
    "M", Dataset, DatasetVersion, Feature, FeatureVersion, Run, Model, ModelVersion, Environment
)

#: Node kinds by id prefix: what a lineage edge end is.
KIND_BY_PREFIX = {
    "ds": "dataset",
    "dv": "dataset_version",
    "ft": "feature",
    "fv": "feature_version",
    "run": "run",
    "mdl": "model",
    "mv": "model_version",
}


def tenant_of(actor: AuditActor) -> str:
    """The actor's tenant; registry actions always happen inside one."""
    if actor.tenant_id is None:
        raise InvalidInput("this action needs a tenant")
    return actor.tenant_id


def kind_of(node_id: str) -> str | None:
    return KIND_BY_PREFIX.get(node_id.partition("_")[0])


def get_scoped(
    session: Session, model: type[M], tenant_id: str, obj_id: str, what: str, *, lock: bool = False
) -> M:
    """Load one row of ``tenant_id`` by id, or raise NotFound (also for other tenants' rows).

    ``lock`` takes the row lock (PostgreSQL ``FOR UPDATE``; SQLite writers already hold the
    database lock), so a check-then-change cannot interleave with another writer's.
    """
    obj = session.get(model, obj_id, with_for_update=lock or None)
    if obj is None or obj.tenant_id != tenant_id:
        raise NotFound(f"{what} '{obj_id}' not found")
    return obj


def dataset_by_name(session: Session, tenant_id: str, namespace: str, name: str) -> Dataset | None:
    return session.scalar(
        select(Dataset).where(
            Dataset.tenant_id == tenant_id, Dataset.namespace == namespace, Dataset.name == name
        )
    )


def dataset_version_by_label(
    session: Session, dataset_id: str, version: str
) -> DatasetVersion | None:
    return session.scalar(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset_id, DatasetVersion.version == version
        )
    )


def feature_by_name(session: Session, tenant_id: str, name: str) -> Feature | None:
    return session.scalar(
        select(Feature).where(Feature.tenant_id == tenant_id, Feature.name == name)
    )


def model_by_name(session: Session, tenant_id: str, name: str) -> Model | None:
    return session.scalar(select(Model).where(Model.tenant_id == tenant_id, Model.name == name))


def resolve_model(session: Session, tenant_id: str, ref: str) -> Model:
    """A model by id (``mdl_...``) or by name."""
    if ref.startswith("mdl_"):
        found = session.get(Model, ref)
        if found is not None and found.tenant_id == tenant_id:
            return found
    model = model_by_name(session, tenant_id, ref)
    if model is None:
        raise NotFound(f"model '{ref}' not found")
    return model


def run_by_external_id(session: Session, tenant_id: str, external_run_id: str) -> Run | None:
    return session.scalar(
        select(Run).where(Run.tenant_id == tenant_id, Run.external_run_id == external_run_id)
    )


def environment_names(session: Session, ids: Iterable[str | None]) -> dict[str, str]:
    """Names of the environments ``ids`` names (rows store ids, answers show names)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    found = session.execute(
        select(Environment.id, Environment.name).where(Environment.id.in_(wanted))
    )
    return {env_id: name for env_id, name in found}


def environment_by_name(session: Session, tenant_id: str, name: str) -> Environment:
    env = session.scalar(
        select(Environment).where(Environment.tenant_id == tenant_id, Environment.name == name)
    )
    if env is None:
        raise NotFound(f"environment '{name}' not found")
    return env


def require_nodes(
    session: Session, tenant_id: str, ids: Sequence[str], kinds: Iterable[str], role: str
) -> None:
    """Every id must name an existing node of one of ``kinds`` in the tenant (else 404/400)."""
    allowed = set(kinds)
    by_kind: dict[str, list[str]] = {}
    for node_id in ids:
        kind = kind_of(node_id)
        if kind not in allowed:
            raise InvalidInput(
                f"{role} '{node_id}' is not a {' or '.join(sorted(allowed))} id",
                reference=node_id,
            )
        by_kind.setdefault(kind, []).append(node_id)
    tables: dict[str, type[DatasetVersion] | type[FeatureVersion]] = {
        "dataset_version": DatasetVersion,
        "feature_version": FeatureVersion,
    }
    for kind, wanted in by_kind.items():
        table = tables[kind]
        found = set(
            session.scalars(
                select(table.id).where(table.tenant_id == tenant_id, table.id.in_(wanted))
            )
        )
        for node_id in wanted:
            if node_id not in found:
                raise NotFound(f"{role} '{node_id}' not found", reference=node_id)


def add_edges(
    session: Session,
    tenant_id: str,
    edges: Iterable[tuple[str, str, str]],
    *,
    new_node: bool = False,
) -> list[tuple[str, str, str]]:
    """Insert (source, target, relation) edges not yet recorded; return those inserted.

    ``new_node``: every edge touches a node created in this transaction, so none can exist
    yet and the lookup is skipped (the hot path of version and run creation).
    """
    wanted = list({(s, t): (s, t, r) for s, t, r in edges}.values())
    if not wanted:
        return []
    existing: set[tuple[str, str]] = set()
    for source, target in (
        []
        if new_node
        else session.execute(
            select(LineageEdge.source_id, LineageEdge.target_id).where(
                LineageEdge.tenant_id == tenant_id,
                LineageEdge.source_id.in_({s for s, _, _ in wanted}),
                LineageEdge.target_id.in_({t for _, t, _ in wanted}),
            )
        )
    ):
        existing.add((source, target))
    now = utcnow()
    new = [(s, t, r) for s, t, r in wanted if (s, t) not in existing]
    session.add_all(
        LineageEdge(tenant_id=tenant_id, source_id=s, target_id=t, relation=r, created_at=now)
        for s, t, r in new
    )
    return new


def sources_of(session: Session, tenant_id: str, target_ids: Sequence[str]) -> dict[str, list[str]]:
    """Upstream neighbours of each target, in id order."""
    out: dict[str, list[str]] = {t: [] for t in target_ids}
    if not target_ids:
        return out
    rows = session.execute(
        select(LineageEdge.target_id, LineageEdge.source_id)
        .where(LineageEdge.tenant_id == tenant_id, LineageEdge.target_id.in_(target_ids))
        .order_by(LineageEdge.source_id)
    )
    for target, source in rows:
        out[target].append(source)
    return out


def targets_of(
    session: Session, tenant_id: str, source_ids: Sequence[str], relation: str
) -> dict[str, list[str]]:
    """Downstream neighbours of each source by ``relation``, in id order."""
    out: dict[str, list[str]] = {s: [] for s in source_ids}
    if not source_ids:
        return out
    rows = session.execute(
        select(LineageEdge.source_id, LineageEdge.target_id)
        .where(
            LineageEdge.tenant_id == tenant_id,
            LineageEdge.source_id.in_(source_ids),
            LineageEdge.relation == relation,
        )
        .order_by(LineageEdge.target_id)
    )
    for source, target in rows:
        out[source].append(target)
    return out


def pointer_envs(session: Session, version_ids: Sequence[str]) -> dict[str, list[str]]:
    """Names of the environments where each version is the production pointer."""
    out: dict[str, list[str]] = {v: [] for v in version_ids}
    if not version_ids:
        return out
    rows = session.execute(
        select(ProductionPointer.model_version_id, Environment.name)
        .join(Environment, Environment.id == ProductionPointer.environment_id)
        .where(ProductionPointer.model_version_id.in_(version_ids))
        .order_by(Environment.name)
    )
    for version_id, env in rows:
        out[version_id].append(env)
    return out


def count_pointers(session: Session, version_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ProductionPointer)
            .where(ProductionPointer.model_version_id == version_id)
        )
        or 0
    )


def trained_on(session: Session, tenant_id: str, run_id: str) -> tuple[list[str], list[str]]:
    """What a run read: its dataset versions (directly or through the feature versions it
    used), and those feature versions, each in id order without repeats."""
    inputs = sources_of(session, tenant_id, [run_id])[run_id]
    features = [i for i in inputs if i.startswith("fv_")]
    datasets = [i for i in inputs if i.startswith("dv_")]
    for sources in sources_of(session, tenant_id, features).values():
        datasets += [s for s in sources if s.startswith("dv_")]
    return list(dict.fromkeys(datasets)), features
