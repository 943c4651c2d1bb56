"""Datasets and dataset versions: registration, approval, flagging, and get-or-create for
OpenLineage ingest.

A dataset version that arrives without a label (OpenLineage often has none) is identified by
its content: the label is ``auto-`` followed by the first 24 hex characters of the SHA-256 of
the RFC 8785 canonical JSON of ``{"digest": ..., "schema": [...], "uri": ...}``. The same URI,
schema and digest therefore always name the same version, and any change names a new one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor, Target, record
from trustplane.audit.canonical import canonical_json
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id, utcnow
from trustplane.db.pagination import keyset_page
from trustplane.errors import Conflict, InvalidInput
from trustplane.registry.models import Dataset, DatasetVersion
from trustplane.registry.repository import (
    dataset_by_name,
    dataset_version_by_label,
    get_scoped,
    tenant_of,
)
from trustplane.registry.schemas import (
    DEFAULT_NAMESPACE,
    DIGEST_PATTERN,
    DatasetCreate,
    DatasetRead,
    DatasetVersionCreate,
    DatasetVersionRead,
    FlagRequest,
    ReviewDecision,
)

_DIGEST = re.compile(DIGEST_PATTERN)


def register(session: Session, actor: AuditActor, data: DatasetCreate) -> DatasetRead:
    """Register a dataset by (namespace, name); a duplicate answers 409."""
    tenant = tenant_of(actor)
    if dataset_by_name(session, tenant, data.namespace, data.name) is not None:
        raise Conflict(f"dataset '{data.namespace}:{data.name}' already exists")
    dataset = _create(session, actor, data.namespace, data.name, data.description, data.owner)
    return DatasetRead.model_validate(dataset)


def _create(
    session: Session,
    actor: AuditActor,
    namespace: str,
    name: str,
    description: str,
    owner: str | None,
) -> Dataset:
    dataset = Dataset(
        id=new_id("ds"),
        tenant_id=tenant_of(actor),
        namespace=namespace,
        name=name,
        description=description,
        owner=owner,
        created_at=utcnow(),
        created_by=actor.principal_id,
    )
    session.add(dataset)
    session.flush()
    record(
        session,
        actor,
        "dataset.register",
        Target("dataset", dataset.id, f"{namespace}:{name}"),
        details=EventDetails(payload={"namespace": namespace, "name": name}),
    )
    return dataset


def ensure_dataset(
    session: Session,
    actor: AuditActor,
    *,
    namespace: str,
    name: str,
    description: str | None = None,
) -> Dataset:
    """Get the dataset (namespace, name) or register it (OpenLineage ingest).

    Two transactions may both find nothing and insert; the loser's insert fails on the unique
    key inside a savepoint, and it returns the winner's row instead of failing.
    """
    tenant = tenant_of(actor)
    found = dataset_by_name(session, tenant, namespace, name)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            return _create(session, actor, namespace, name, description or "", None)
    except IntegrityError:
        found = dataset_by_name(session, tenant, namespace, name)
        if found is None:
            raise
        return found


def get(session: Session, actor: AuditActor, dataset_id: str) -> DatasetRead:
    return DatasetRead.model_validate(_dataset(session, actor, dataset_id))


def _dataset(session: Session, actor: AuditActor, dataset_id: str) -> Dataset:
    return get_scoped(session, Dataset, tenant_of(actor), dataset_id, "dataset")


def list_datasets(
    session: Session,
    actor: AuditActor,
    namespace: str | None,
    name: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[DatasetRead], str | None]:
    query = select(Dataset).where(Dataset.tenant_id == tenant_of(actor))
    if namespace is not None:
        query = query.where(Dataset.namespace == namespace)
    if name is not None:
        query = query.where(Dataset.name == name)
    rows, nxt = keyset_page(session, query, Dataset.id, cursor, limit)
    return [DatasetRead.model_validate(r) for r in rows], nxt


def create_version(
    session: Session, actor: AuditActor, dataset_id: str, data: DatasetVersionCreate
) -> DatasetVersionRead:
    """Register a version with its content digest; a duplicate label answers 409."""
    dataset = _dataset(session, actor, dataset_id)
    if dataset_version_by_label(session, dataset.id, data.version) is not None:
        raise Conflict(f"dataset '{dataset.name}' already has a version '{data.version}'")
    version = _create_version(
        session,
        actor,
        dataset,
        label=data.version,
        uri=data.uri,
        digest=data.digest,
        schema=[c.model_dump() for c in data.columns],
        extra={"row_count": data.row_count, "sensitivity": data.sensitivity, "region": data.region},
    )
    return DatasetVersionRead.model_validate(version)


def _create_version(
    session: Session,
    actor: AuditActor,
    dataset: Dataset,
    *,
    label: str,
    uri: str | None,
    digest: str | None,
    schema: list[dict[str, Any]],
    extra: dict[str, Any],
) -> DatasetVersion:
    version = DatasetVersion(
        id=new_id("dv"),
        tenant_id=dataset.tenant_id,
        dataset_id=dataset.id,
        version=label,
        uri=uri,
        digest=digest,
        schema=schema,
        row_count=extra.get("row_count"),
        sensitivity=extra.get("sensitivity") or "internal",
        region=extra.get("region"),
        approval_status="pending",
        flagged_for_removal=False,
        created_at=utcnow(),
        created_by=actor.principal_id,
    )
    session.add(version)
    session.flush()
    record(
        session,
        actor,
        "dataset.version",
        Target("dataset_version", version.id, f"{dataset.namespace}:{dataset.name}@{label}"),
        details=EventDetails(
            digests=[digest] if digest else [],
            payload={
                "dataset_id": dataset.id,
                "version": label,
                "uri": uri,
                "sensitivity": version.sensitivity,
                "region": version.region,
                "row_count": version.row_count,
            },
        ),
    )
    return version


def content_label(uri: str | None, schema: Sequence[dict[str, Any]], digest: str | None) -> str:
    """The label of a version known only by its content (see the module docstring)."""
    body = canonical_json({"digest": digest, "schema": list(schema), "uri": uri})
    return "auto-" + hashlib.sha256(body).hexdigest()[:24]


def ensure_dataset_version(
    session: Session,
    actor: AuditActor,
    dataset: Dataset,
    *,
    version: str | None = None,
    uri: str | None = None,
    schema: Sequence[dict[str, Any]] | None = None,
    digest: str | None = None,
) -> DatasetVersion:
    """Get or create a version of ``dataset`` (OpenLineage ingest).

    A known label with a different digest is a conflict: a version's content never changes.
    """
    if digest is not None and not _DIGEST.match(digest):
        raise InvalidInput(f"digest '{digest}' is not of the form sha256:<64 lowercase hex>")
    columns = [{"name": str(c["name"]), "type": str(c.get("type") or "")} for c in schema or []]
    label = version or content_label(uri, columns, digest)
    found = dataset_version_by_label(session, dataset.id, label)
    if found is None:
        try:
            with session.begin_nested():
                return _create_version(
                    session,
                    actor,
                    dataset,
                    label=label,
                    uri=uri,
                    digest=digest,
                    schema=columns,
                    extra={},
                )
        except IntegrityError:  # created concurrently: use that one (see ensure_dataset)
            found = dataset_version_by_label(session, dataset.id, label)
            if found is None:
                raise
    if digest is not None and found.digest is not None and found.digest != digest:
        raise Conflict(
            f"dataset '{dataset.name}' version '{label}' is registered with another digest"
        )
    _fill_in(session, actor, dataset, found, uri=uri, schema=columns)
    return found


def _fill_in(
    session: Session,
    actor: AuditActor,
    dataset: Dataset,
    version: DatasetVersion,
    *,
    uri: str | None,
    schema: list[dict[str, str]],
) -> None:
    """A later event may know what the first did not (a START without the schema facet, a
    COMPLETE with it): fill in a missing URI or schema, never change a known one."""
    filled: dict[str, Any] = {}
    if version.uri is None and uri is not None:
        version.uri = filled["uri"] = uri
    if not version.schema and schema:
        version.schema = filled["schema"] = schema
    if not filled:
        return
    session.flush()
    record(
        session,
        actor,
        "dataset.version.describe",
        Target(
            "dataset_version", version.id, f"{dataset.namespace}:{dataset.name}@{version.version}"
        ),
        details=EventDetails(payload={"dataset_id": dataset.id, "filled": filled}),
    )


def get_version(session: Session, actor: AuditActor, version_id: str) -> DatasetVersionRead:
    return DatasetVersionRead.model_validate(_version(session, actor, version_id))


def _version(
    session: Session, actor: AuditActor, version_id: str, *, lock: bool = False
) -> DatasetVersion:
    return get_scoped(
        session, DatasetVersion, tenant_of(actor), version_id, "dataset version", lock=lock
    )


def list_versions(
    session: Session, actor: AuditActor, dataset_id: str, cursor: str | None, limit: int
) -> tuple[list[DatasetVersionRead], str | None]:
    dataset = _dataset(session, actor, dataset_id)
    query = select(DatasetVersion).where(
        DatasetVersion.tenant_id == dataset.tenant_id, DatasetVersion.dataset_id == dataset.id
    )
    rows, nxt = keyset_page(session, query, DatasetVersion.id, cursor, limit)
    return [DatasetVersionRead.model_validate(r) for r in rows], nxt


def decide(
    session: Session, actor: AuditActor, version_id: str, data: ReviewDecision
) -> DatasetVersionRead:
    """Approve or reject a pending version; a decided version cannot be decided again."""
    version = _version(session, actor, version_id, lock=True)
    if version.approval_status != "pending":
        raise Conflict(f"dataset version '{version.id}' is already {version.approval_status}")
    if version.digest is None:
        raise Conflict("a dataset version without a content digest cannot be approved")
    version.approval_status = data.decision
    version.approved_by = actor.principal_id
    version.approved_at = utcnow()
    version.approval_reason = data.reason
    action = "dataset.approve" if data.decision == "approved" else "dataset.reject"
    record(
        session,
        actor,
        action,
        Target("dataset_version", version.id, version.version),
        details=EventDetails(
            digests=[version.digest], reason=data.reason, payload={"status": data.decision}
        ),
    )
    return DatasetVersionRead.model_validate(version)


def flag(
    session: Session, actor: AuditActor, version_id: str, data: FlagRequest
) -> DatasetVersionRead:
    """Flag a version for removal (e.g. an erasure request); lineage finds what used it."""
    version = _version(session, actor, version_id, lock=True)
    if version.flagged_for_removal:
        raise Conflict(f"dataset version '{version.id}' is already flagged for removal")
    version.flagged_for_removal = True
    version.flag_reason = data.reason
    version.flagged_at = utcnow()
    version.flagged_by = actor.principal_id
    record(
        session,
        actor,
        "dataset.flag",
        Target("dataset_version", version.id, version.version),
        details=EventDetails(
            digests=[version.digest] if version.digest else [], reason=data.reason
        ),
    )
    return DatasetVersionRead.model_validate(version)


__all__ = [
    "DEFAULT_NAMESPACE",
    "content_label",
    "create_version",
    "decide",
    "ensure_dataset",
    "ensure_dataset_version",
    "flag",
    "get",
    "get_version",
    "list_datasets",
    "list_versions",
    "register",
]
