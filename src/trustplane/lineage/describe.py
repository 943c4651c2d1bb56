"""From references to graph nodes and back: which node ids a reference names (tenant-scoped),
and what each node id is, for people (labels) and machines (details)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from trustplane.db.session import is_postgres
from trustplane.errors import NotFound
from trustplane.identity.models import Environment
from trustplane.lineage import graph
from trustplane.lineage.nodes import IdNode, NamedNode, NodeRef, format_node, kind_of
from trustplane.lineage.schemas import Detail, NodeRead, Side
from trustplane.registry.models import (
    Dataset,
    DatasetVersion,
    Feature,
    FeatureVersion,
    Model,
    ModelVersion,
    ProductionPointer,
    Run,
)

#: Parent kind -> (version table, its parent column, parent table).
_VERSIONS_OF: dict[str, tuple[Any, Any, Any]] = {
    "dataset": (DatasetVersion, DatasetVersion.dataset_id, Dataset),
    "feature": (FeatureVersion, FeatureVersion.feature_id, Feature),
    "model": (ModelVersion, ModelVersion.model_id, Model),
}
_GRAPH_TABLES: dict[str, Any] = {
    "dataset_version": DatasetVersion,
    "feature_version": FeatureVersion,
    "run": Run,
    "model_version": ModelVersion,
}


def resolve(session: Session, tenant_id: str, ref: NodeRef) -> list[str]:
    """The graph node ids a reference names, in id order; NotFound if it names nothing.

    A dataset, feature or model (by id, or a dataset by namespace and name) names all of its
    versions, possibly none; a job names all of its runs.
    """
    if isinstance(ref, NamedNode):
        return _resolve_named(session, tenant_id, ref)
    return _resolve_id(session, tenant_id, ref)


def _resolve_named(session: Session, tenant_id: str, ref: NamedNode) -> list[str]:
    if ref.kind == "dataset":
        versions = _versions_of(
            session,
            "dataset",
            (
                Dataset.tenant_id == tenant_id,
                Dataset.namespace == ref.namespace,
                Dataset.name == ref.name,
            ),
        )
        if versions is None:
            raise NotFound(f"dataset '{format_node(ref)}' not found")
        return versions
    runs = sorted(
        session.scalars(
            select(Run.id).where(
                Run.tenant_id == tenant_id,
                Run.job_namespace == ref.namespace,
                Run.job_name == ref.name,
            )
        )
    )
    if not runs:
        raise NotFound(f"job '{format_node(ref)}' not found")
    return runs


def _resolve_id(session: Session, tenant_id: str, ref: IdNode) -> list[str]:
    if ref.kind in _VERSIONS_OF:
        parent = _VERSIONS_OF[ref.kind][2]
        where = (parent.id == ref.id, parent.tenant_id == tenant_id)
        versions = _versions_of(session, ref.kind, where)
        if versions is None:
            raise NotFound(f"{ref.kind} '{ref.id}' not found")
        return versions
    table_of = _GRAPH_TABLES[ref.kind]
    found = session.scalar(
        select(table_of.id).where(table_of.id == ref.id, table_of.tenant_id == tenant_id)
    )
    if found is None:
        raise NotFound(f"{ref.kind.replace('_', ' ')} '{ref.id}' not found")
    return [ref.id]


def _versions_of(session: Session, kind: str, where: tuple[Any, ...]) -> list[str] | None:
    """The version ids (sorted) of the one ``kind`` (dataset, feature, model) matching
    ``where``, in one query; None if there is none. The parent is the tenant's (``where``
    says so), hence its versions too."""
    table, parent_column, parent = _VERSIONS_OF[kind]
    rows = session.execute(
        select(parent.id, table.id).outerjoin(table, parent_column == parent.id).where(*where)
    ).all()
    if not rows:
        return None
    # sorted here: ORDER BY id may make SQLite walk the primary key
    return sorted(v for _parent, v in rows if v is not None)


def describe(
    session: Session,
    tenant_id: str,
    placed: dict[str, tuple[Side, int | None]],
) -> list[NodeRead]:
    """NodeReads for ``placed`` (id -> side and depth), sorted by side, depth, then id."""
    return [NodeRead.model_validate(row) for row in describe_rows(session, tenant_id, placed)]


_SIDE_ORDER = {"root": 0, "upstream": 1, "downstream": 2}


def describe_rows(
    session: Session,
    tenant_id: str,
    placed: dict[str, tuple[Side, int | None]],
) -> list[dict[str, Any]]:
    """:func:`describe` as plain dicts, for answers validated whole (one call into pydantic
    for thousands of nodes costs far less than one per node)."""
    found = describe_ids(session, tenant_id, placed)
    order = sorted(placed, key=lambda n: (_SIDE_ORDER[placed[n][0]], placed[n][1] or 0, n))
    rows = []
    for node_id in order:
        kind, label, details = found[node_id]
        side, depth = placed[node_id]
        rows.append(
            {
                "id": node_id,
                "kind": kind,
                "label": label,
                "side": side,
                "depth": depth,
                "details": details,
            }
        )
    return rows


Description = tuple[str, str, dict[str, Detail]]


def describe_ids(session: Session, tenant_id: str, ids: Iterable[str]) -> dict[str, Description]:
    """(kind, label, details) of each id: one query per node kind present (per 1,000 ids),
    built once per kind, reading Core rows (plain tuples, none of the ORM's per-row work).

    An id whose row is missing (an edge end of a kind we do not know) is described by its id
    and kind alone, so a newer node kind never breaks an answer.
    """
    by_kind: dict[str, list[str]] = {}
    for node_id in ids:
        by_kind.setdefault(kind_of(node_id), []).append(node_id)
    postgres = is_postgres(session)
    out: dict[str, Description] = {}
    for kind, wanted in by_kind.items():
        how = _KINDS.get(kind)
        if how is not None:
            keys, label = how.keys, how.label
            statement = _describer(kind, postgres)
            for chunk in _chunks(wanted, 1000):
                for tenant, node_id, *values in session.execute(statement, {"ids": chunk}).all():
                    if tenant == tenant_id:
                        details = dict(zip(keys, values, strict=True))
                        out[node_id] = (kind, label(node_id, details), details)
        for node_id in wanted:
            out.setdefault(node_id, (kind, node_id, {}))
    return out


# The describers look rows up by id alone and keep those of the tenant in Python. Ids are
# unique across tenants, so the answer is the same; but with ``tenant_id = ?`` in the WHERE
# clause, SQLite without planner statistics walks the tenant index (every row of the tenant)
# instead of making one primary-key lookup per id.

_dv, _ds = DatasetVersion.__table__, Dataset.__table__
_fv, _ft = FeatureVersion.__table__, Feature.__table__
_run = Run.__table__
_mv, _mdl = ModelVersion.__table__, Model.__table__
_pointer, _env = ProductionPointer.__table__.c, Environment.__table__.c


def _dataset_version_label(_id: str, d: dict[str, Detail]) -> str:
    return f"{d['namespace']}:{d['name']}@{d['version']}"


def _feature_version_label(_id: str, d: dict[str, Detail]) -> str:
    return f"{d['name']}@{d['version']}"


def _run_label(node_id: str, d: dict[str, Detail]) -> str:
    return f"job:{d['job_namespace']}:{d['job_name']}" if d["job_name"] else f"run {node_id}"


def _model_version_label(_id: str, d: dict[str, Detail]) -> str:
    return f"{d['model_name']} v{d['version']}"


@dataclass(frozen=True)
class _Kind:
    """How to describe one node kind: its table, the FROM clause, the detail columns with
    their keys, and the label made from the details."""

    table: Any
    source: Any
    columns: tuple[Any, ...]
    keys: tuple[str, ...]
    label: Callable[[str, dict[str, Detail]], str]


_KINDS = {
    "dataset_version": _Kind(
        _dv,
        _dv.join(_ds, _ds.c.id == _dv.c.dataset_id),
        (_dv.c.dataset_id, _ds.c.namespace, _ds.c.name, _dv.c.version, _dv.c.digest,
         _dv.c.approval_status, _dv.c.flagged_for_removal, _dv.c.flag_reason),
        ("dataset_id", "namespace", "name", "version", "digest", "approval_status",
         "flagged_for_removal", "flag_reason"),
        _dataset_version_label,
    ),
    "feature_version": _Kind(
        _fv,
        _fv.join(_ft, _ft.c.id == _fv.c.feature_id),
        (_fv.c.feature_id, _ft.c.name, _fv.c.version, _fv.c.deprecated, _fv.c.deprecation_reason),
        ("feature_id", "name", "version", "deprecated", "deprecation_reason"),
        _feature_version_label,
    ),
    "run": _Kind(
        _run,
        _run,
        (_run.c.job_namespace, _run.c.job_name, _run.c.external_run_id, _run.c.status,
         _run.c.code_repo, _run.c.commit_sha, _run.c.env_fingerprint),
        ("job_namespace", "job_name", "external_run_id", "status", "code_repo", "commit_sha",
         "env_fingerprint"),
        _run_label,
    ),
    "model_version": _Kind(
        _mv,
        _mv.join(_mdl, _mdl.c.id == _mv.c.model_id),
        (_mv.c.model_id, _mdl.c.name, _mv.c.version, _mv.c.state, _mv.c.artifact_digest),
        ("model_id", "model_name", "version", "state", "artifact_digest"),
        _model_version_label,
    ),
}  # fmt: skip


@cache
def _describer(kind: str, postgres: bool) -> Select[Any]:
    """(tenant, id, *details) rows of one kind for the ids in parameter ``ids``."""
    how = _KINDS[kind]
    return (
        select(how.table.c.tenant_id, how.table.c.id, *how.columns)
        .select_from(how.source)
        .where(graph.seed_in(how.table.c.id, graph.ids_param("ids", postgres)))
    )


def production_environments(
    session: Session, tenant_id: str, version_ids: Iterable[str]
) -> dict[str, list[str]]:
    """Model version id -> the environments where it is the production version (sorted);
    versions in production nowhere are left out."""
    found: dict[str, list[str]] = {}
    statement = _serving(is_postgres(session))
    for chunk in _chunks(sorted(set(version_ids)), 1000):
        for tenant, version_id, environment in session.execute(statement, {"ids": chunk}).all():
            if tenant == tenant_id:
                found.setdefault(version_id, []).append(environment)
    return {version_id: sorted(names) for version_id, names in found.items()}


@cache
def _serving(postgres: bool) -> Select[Any]:
    """(tenant, model version, environment) of the production pointers at ``ids``."""
    return (
        select(_pointer.tenant_id, _pointer.model_version_id, _env.name)
        .join_from(
            ProductionPointer.__table__, Environment.__table__, _env.id == _pointer.environment_id
        )
        .where(graph.seed_in(_pointer.model_version_id, graph.ids_param("ids", postgres)))
    )


def via_row(node_id: str, label: str, details: dict[str, Detail]) -> dict[str, Any]:
    """A described node as a reason something needs attention (a ViaRead, as a dict): its
    deprecation or removal reason, if it has one."""
    reason = details.get("deprecation_reason") or details.get("flag_reason")
    return {"id": node_id, "label": label, "reason": str(reason) if reason else None}


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
