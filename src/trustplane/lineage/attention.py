"""Model versions that need attention because of what they were built from: trained on a
deprecated feature, or on a dataset version flagged for removal (with the production
environments that serve them).

Each page is one statement (see ``reach.py``): the closure downstream of every such origin at
once, cut in SQL to the page's model versions (in id order after the cursor), and the origins
each of them derives from. The page and its origins are then described with one query per
node kind, and the versions' production environments with one more.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import TypeAdapter
from sqlalchemy import BindParameter, CompoundSelect, String, bindparam, select
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor
from trustplane.db.session import is_postgres
from trustplane.errors import InvalidInput
from trustplane.lineage import graph, reach
from trustplane.lineage.describe import describe_ids, production_environments, resolve, via_row
from trustplane.lineage.nodes import kind_of, parse_node
from trustplane.lineage.schemas import AffectedVersion
from trustplane.registry.models import DatasetVersion, FeatureVersion
from trustplane.registry.repository import tenant_of

Page = tuple[list[AffectedVersion], str | None]
Origin = Literal["deprecated_feature", "flagged_dataset"]

_VERSIONS = TypeAdapter(list[AffectedVersion])


def on_deprecated_features(
    session: Session,
    actor: AuditActor,
    feature: str | None,
    cursor: str | None,
    limit: int,
) -> Page:
    """Model versions downstream of a deprecated feature version (of ``feature`` if given:
    a feature or feature version id)."""
    tenant = tenant_of(actor)
    named = None if feature is None else _named(session, tenant, feature, "feature_version")
    return _affected(session, tenant, "deprecated_feature", named, cursor, limit)


def on_flagged_datasets(
    session: Session,
    actor: AuditActor,
    dataset: str | None,
    cursor: str | None,
    limit: int,
) -> Page:
    """Model versions downstream of a dataset version flagged for removal (of ``dataset`` if
    given: a dataset or dataset version id, or ``dataset:NAMESPACE:NAME``)."""
    tenant = tenant_of(actor)
    named = None if dataset is None else _named(session, tenant, dataset, "dataset_version")
    return _affected(session, tenant, "flagged_dataset", named, cursor, limit)


def _named(session: Session, tenant: str, reference: str, kind: str) -> list[str]:
    ids = resolve(session, tenant, parse_node(reference))
    if any(kind_of(i) != kind for i in ids):
        raise InvalidInput(f"'{reference}' does not name a {kind.replace('_', ' ')}")
    return ids


def _affected(
    session: Session,
    tenant: str,
    origin: Origin,
    named: list[str] | None,
    cursor: str | None,
    limit: int,
) -> Page:
    if named == []:
        return [], None
    statement = _statement(origin, named is not None, is_postgres(session))
    values: dict[str, Any] = {"tenant": tenant, "after": cursor or "", "limit": limit + 1}
    if named is not None:
        values["named"] = named
    with graph.planned_for_walks(session):
        found = reach.read(session.execute(statement, values).all())
    page = found.page[:limit]
    origins = sorted({o for v in page for o in found.via.get(v, [])})
    described = describe_ids(session, tenant, [*page, *origins])
    environments = production_environments(session, tenant, page)
    rows = []
    for version_id in page:
        _kind, _label, details = described[version_id]
        rows.append(
            {
                "model_version_id": version_id,
                "model_id": details.get("model_id"),
                "model_name": details.get("model_name"),
                "version": details.get("version"),
                "state": details.get("state"),
                "production_environments": environments.get(version_id, []),
                "via": [via_row(o, *described[o][1:]) for o in found.via.get(version_id, [])],
            }
        )
    nxt = page[-1] if len(found.page) > limit else None
    return _VERSIONS.validate_python(rows), nxt


@cache
def _statement(origin: Origin, named: bool, postgres: bool) -> CompoundSelect[Any]:
    """The statement for one kind of origin (optionally only the ``named`` ones), built once;
    parameters ``tenant``, ``after``, ``limit`` and ``named``."""
    tenant: BindParameter[str] = bindparam("tenant", type_=String)
    table: type[FeatureVersion] | type[DatasetVersion] = FeatureVersion
    flag = FeatureVersion.deprecated
    if origin == "flagged_dataset":
        table, flag = DatasetVersion, DatasetVersion.flagged_for_removal
    origins = select(table.id).where(table.tenant_id == tenant, flag.is_(True))
    if named:
        named_ids = graph.ids_param("named", postgres)
        origins = origins.where(graph.seed_in(table.__table__.c.id, named_ids))
    return reach.statement(
        origins,
        prefix=reach.PREFIX_OF["model_version"],
        in_production=False,
        totals=False,
        via=True,
        postgres=postgres,
    )
