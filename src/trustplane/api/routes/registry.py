"""Registry routes for datasets, features and runs: thin, one service call each."""

from __future__ import annotations

from fastapi import Depends, Query, status
from sqlalchemy.orm import Session

from trustplane.api.deps import Cursor, Limit, Require, get_session
from trustplane.api.routing import domain_router
from trustplane.identity.actor import Actor
from trustplane.identity.roles import Permission
from trustplane.paging import Page
from trustplane.registry import datasets, features, runs
from trustplane.registry.schemas import (
    DatasetCreate,
    DatasetRead,
    DatasetVersionCreate,
    DatasetVersionRead,
    FeatureCreate,
    FeatureRead,
    FeatureVersionCreate,
    FeatureVersionRead,
    FlagRequest,
    ReviewDecision,
    RunCreate,
    RunRead,
)

router = domain_router(tags=["registry"])
P = Permission


@router.post("/datasets", status_code=status.HTTP_201_CREATED)
def register_dataset(
    body: DatasetCreate,
    actor: Actor = Require(P.DATASET_REGISTER),
    session: Session = Depends(get_session),
) -> DatasetRead:
    return datasets.register(session, actor, body)


@router.get("/datasets")
def list_datasets(
    actor: Actor = Require(P.DATASET_READ),
    session: Session = Depends(get_session),
    namespace: str | None = Query(default=None, max_length=500),
    name: str | None = Query(default=None, max_length=500),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[DatasetRead]:
    """Datasets registered here and those reported through OpenLineage alike."""
    items, nxt = datasets.list_datasets(session, actor, namespace, name, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.get("/datasets/{dataset_id}")
def get_dataset(
    dataset_id: str,
    actor: Actor = Require(P.DATASET_READ),
    session: Session = Depends(get_session),
) -> DatasetRead:
    return datasets.get(session, actor, dataset_id)


@router.post("/datasets/{dataset_id}/versions", status_code=status.HTTP_201_CREATED)
def create_dataset_version(
    dataset_id: str,
    body: DatasetVersionCreate,
    actor: Actor = Require(P.DATASET_REGISTER),
    session: Session = Depends(get_session),
) -> DatasetVersionRead:
    return datasets.create_version(session, actor, dataset_id, body)


@router.get("/datasets/{dataset_id}/versions")
def list_dataset_versions(
    dataset_id: str,
    actor: Actor = Require(P.DATASET_READ),
    session: Session = Depends(get_session),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[DatasetVersionRead]:
    items, nxt = datasets.list_versions(session, actor, dataset_id, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.get("/dataset-versions/{version_id}")
def get_dataset_version(
    version_id: str,
    actor: Actor = Require(P.DATASET_READ),
    session: Session = Depends(get_session),
) -> DatasetVersionRead:
    return datasets.get_version(session, actor, version_id)


@router.post("/dataset-versions/{version_id}/approval")
def decide_dataset_version(
    version_id: str,
    body: ReviewDecision,
    actor: Actor = Require(P.DATASET_APPROVE),
    session: Session = Depends(get_session),
) -> DatasetVersionRead:
    """Approve or reject a pending version, with the reason."""
    return datasets.decide(session, actor, version_id, body)


@router.post("/dataset-versions/{version_id}/flag")
def flag_dataset_version(
    version_id: str,
    body: FlagRequest,
    actor: Actor = Require(P.DATASET_FLAG),
    session: Session = Depends(get_session),
) -> DatasetVersionRead:
    """Flag a version for removal; lineage impact queries find what used it."""
    return datasets.flag(session, actor, version_id, body)


@router.post("/features", status_code=status.HTTP_201_CREATED)
def define_feature(
    body: FeatureCreate,
    actor: Actor = Require(P.FEATURE_DEFINE),
    session: Session = Depends(get_session),
) -> FeatureRead:
    return features.define(session, actor, body)


@router.get("/features")
def list_features(
    actor: Actor = Require(P.FEATURE_READ),
    session: Session = Depends(get_session),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[FeatureRead]:
    items, nxt = features.list_features(session, actor, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.get("/features/{feature}")
def get_feature(
    feature: str,
    actor: Actor = Require(P.FEATURE_READ),
    session: Session = Depends(get_session),
) -> FeatureRead:
    """A feature by id or name."""
    return features.get(session, actor, feature)


@router.post("/features/{feature}/versions", status_code=status.HTTP_201_CREATED)
def create_feature_version(
    feature: str,
    body: FeatureVersionCreate,
    actor: Actor = Require(P.FEATURE_DEFINE),
    session: Session = Depends(get_session),
) -> FeatureVersionRead:
    return features.create_version(session, actor, feature, body)


@router.get("/features/{feature}/versions")
def list_feature_versions(
    feature: str,
    actor: Actor = Require(P.FEATURE_READ),
    session: Session = Depends(get_session),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[FeatureVersionRead]:
    items, nxt = features.list_versions(session, actor, feature, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.post("/features/{feature}/deprecate")
def deprecate_feature(
    feature: str,
    body: FlagRequest,
    actor: Actor = Require(P.FEATURE_DEPRECATE),
    session: Session = Depends(get_session),
) -> list[FeatureVersionRead]:
    """Deprecate every version of the feature that is not deprecated yet."""
    return features.deprecate_feature(session, actor, feature, body)


@router.get("/feature-versions/{version_id}")
def get_feature_version(
    version_id: str,
    actor: Actor = Require(P.FEATURE_READ),
    session: Session = Depends(get_session),
) -> FeatureVersionRead:
    return features.get_version(session, actor, version_id)


@router.post("/feature-versions/{version_id}/review")
def review_feature_version(
    version_id: str,
    body: ReviewDecision,
    actor: Actor = Require(P.FEATURE_REVIEW),
    session: Session = Depends(get_session),
) -> FeatureVersionRead:
    return features.review(session, actor, version_id, body)


@router.post("/feature-versions/{version_id}/deprecate")
def deprecate_feature_version(
    version_id: str,
    body: FlagRequest,
    actor: Actor = Require(P.FEATURE_DEPRECATE),
    session: Session = Depends(get_session),
) -> FeatureVersionRead:
    return features.deprecate_version(session, actor, version_id, body)


@router.post("/runs", status_code=status.HTTP_201_CREATED)
def record_run(
    body: RunCreate,
    actor: Actor = Require(P.RUN_RECORD),
    session: Session = Depends(get_session),
) -> RunRead:
    """Record a training run with its inputs, outputs, code and environment."""
    return runs.create(session, actor, body)


@router.get("/runs")
def list_runs(
    actor: Actor = Require(P.RUN_READ),
    session: Session = Depends(get_session),
    job_namespace: str | None = Query(default=None, max_length=500),
    job_name: str | None = Query(default=None, max_length=500),
    cursor: str | None = Cursor(),
    limit: int = Limit(),
) -> Page[RunRead]:
    items, nxt = runs.list_runs(session, actor, job_namespace, job_name, cursor, limit)
    return Page(items=items, next_cursor=nxt)


@router.get("/runs/{run_id}")
def get_run(
    run_id: str,
    actor: Actor = Require(P.RUN_READ),
    session: Session = Depends(get_session),
) -> RunRead:
    return runs.get(session, actor, run_id)
