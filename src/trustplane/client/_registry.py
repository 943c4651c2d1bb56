"""SDK methods for the registry: datasets, features, runs, models, versions and lifecycle.

Lifecycle transitions send ``If-Match`` with the version's etag: read the version, then act
on what you read; a concurrent change answers ``PreconditionFailed`` (412).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from trustplane.client._base import BaseClient, parsed, segment
from trustplane.client.errors import UnexpectedResponse
from trustplane.client.models import ApiModel, Page
from trustplane.client.registry_models import (
    CompletenessReport,
    CompletenessRuleRead,
    DatasetRead,
    DatasetVersionRead,
    FeatureRead,
    FeatureVersionRead,
    ModelRead,
    ModelVersionRead,
    PointerRead,
    RunRead,
    TransitionRead,
)

M = TypeVar("M", bound=ApiModel)


class RegistryMethods(BaseClient):
    # -- datasets ---------------------------------------------------------------------------

    def register_dataset(
        self,
        name: str,
        *,
        namespace: str | None = None,
        description: str | None = None,
        owner: str | None = None,
        idempotency_key: str | None = None,
    ) -> DatasetRead:
        body = {"name": name, "namespace": namespace, "description": description, "owner": owner}
        return self._post(DatasetRead, "/datasets", body, idempotency_key)

    def list_datasets(
        self,
        *,
        namespace: str | None = None,
        name: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[DatasetRead]:
        return self._get(
            Page[DatasetRead],
            "/datasets",
            namespace=namespace,
            name=name,
            cursor=cursor,
            limit=limit,
        )

    def get_dataset(self, dataset_id: str) -> DatasetRead:
        return self._get(DatasetRead, f"/datasets/{segment(dataset_id)}")

    def find_dataset(self, namespace: str, name: str) -> DatasetRead | None:
        """The dataset (namespace, name), or None."""
        items = self.list_datasets(namespace=namespace, name=name, limit=1).items
        return items[0] if items else None

    def create_dataset_version(
        self,
        dataset_id: str,
        *,
        version: str,
        uri: str,
        digest: str,
        schema: Sequence[Mapping[str, str]] = (),
        row_count: int | None = None,
        sensitivity: str | None = None,
        region: str | None = None,
        idempotency_key: str | None = None,
    ) -> DatasetVersionRead:
        body = {
            "version": version,
            "uri": uri,
            "digest": digest,
            "schema": [dict(c) for c in schema],
            "row_count": row_count,
            "sensitivity": sensitivity,
            "region": region,
        }
        path = f"/datasets/{segment(dataset_id)}/versions"
        return self._post(DatasetVersionRead, path, body, idempotency_key)

    def list_dataset_versions(
        self, dataset_id: str, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[DatasetVersionRead]:
        path = f"/datasets/{segment(dataset_id)}/versions"
        return self._get(Page[DatasetVersionRead], path, cursor=cursor, limit=limit)

    def get_dataset_version(self, version_id: str) -> DatasetVersionRead:
        return self._get(DatasetVersionRead, f"/dataset-versions/{segment(version_id)}")

    def decide_dataset_version(
        self, version_id: str, decision: str, reason: str
    ) -> DatasetVersionRead:
        """``decision`` is ``approved`` or ``rejected``."""
        path = f"/dataset-versions/{segment(version_id)}/approval"
        return self._post(DatasetVersionRead, path, {"decision": decision, "reason": reason}, None)

    def flag_dataset_version(self, version_id: str, reason: str) -> DatasetVersionRead:
        path = f"/dataset-versions/{segment(version_id)}/flag"
        return self._post(DatasetVersionRead, path, {"reason": reason}, None)

    # -- features ---------------------------------------------------------------------------

    def define_feature(
        self, name: str, *, description: str | None = None, owner: str | None = None
    ) -> FeatureRead:
        body = {"name": name, "description": description, "owner": owner}
        return self._post(FeatureRead, "/features", body, None)

    def get_feature(self, feature: str) -> FeatureRead:
        """A feature by id or name."""
        return self._get(FeatureRead, f"/features/{segment(feature)}")

    def list_features(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[FeatureRead]:
        return self._get(Page[FeatureRead], "/features", cursor=cursor, limit=limit)

    def create_feature_version(
        self,
        feature: str,
        *,
        version: str,
        definition: str,
        source_columns: Sequence[str] = (),
        source_dataset_versions: Sequence[str] = (),
        owner: str | None = None,
    ) -> FeatureVersionRead:
        body = {
            "version": version,
            "definition": definition,
            "source_columns": list(source_columns),
            "source_dataset_versions": list(source_dataset_versions),
            "owner": owner,
        }
        path = f"/features/{segment(feature)}/versions"
        return self._post(FeatureVersionRead, path, body, None)

    def list_feature_versions(
        self, feature: str, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[FeatureVersionRead]:
        path = f"/features/{segment(feature)}/versions"
        return self._get(Page[FeatureVersionRead], path, cursor=cursor, limit=limit)

    def deprecate_feature(self, feature: str, reason: str) -> list[FeatureVersionRead]:
        """Deprecate every version of the feature not deprecated yet."""
        path = f"/features/{segment(feature)}/deprecate"
        data = self.request("POST", path, json={"reason": reason})
        return _parse_list(FeatureVersionRead, data)

    def deprecate_feature_version(self, version_id: str, reason: str) -> FeatureVersionRead:
        path = f"/feature-versions/{segment(version_id)}/deprecate"
        return self._post(FeatureVersionRead, path, {"reason": reason}, None)

    # -- runs -------------------------------------------------------------------------------

    def record_run(self, run: Mapping[str, Any], *, idempotency_key: str | None = None) -> RunRead:
        """Record a run; ``run`` has the fields of ``POST /runs`` (inputs, outputs, commit...)."""
        return self._post(RunRead, "/runs", run, idempotency_key)

    def get_run(self, run_id: str) -> RunRead:
        return self._get(RunRead, f"/runs/{segment(run_id)}")

    def list_runs(
        self,
        *,
        job_namespace: str | None = None,
        job_name: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[RunRead]:
        return self._get(
            Page[RunRead],
            "/runs",
            job_namespace=job_namespace,
            job_name=job_name,
            cursor=cursor,
            limit=limit,
        )

    # -- models and versions ----------------------------------------------------------------

    def register_model(
        self, name: str, *, idempotency_key: str | None = None, **fields: Any
    ) -> ModelRead:
        """Register a model; ``fields``: owner, intended_use, risk_tier, out_of_scope_uses,
        limitations (a list of known limitations, shown on the model card)..."""
        return self._post(ModelRead, "/models", {"name": name, **fields}, idempotency_key)

    def get_model(self, model: str) -> ModelRead:
        """A model by id or name."""
        return self._get(ModelRead, f"/models/{segment(model)}")

    def list_models(
        self,
        *,
        risk_tier: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[ModelRead]:
        return self._get(
            Page[ModelRead], "/models", risk_tier=risk_tier, cursor=cursor, limit=limit
        )

    def create_model_version(
        self,
        model: str,
        artifact_digest: str,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> ModelVersionRead:
        """A new draft version; ``fields``: run_id, artifact_uri, metrics, evaluations, tags."""
        body = {"artifact_digest": artifact_digest, **fields}
        path = f"/models/{segment(model)}/versions"
        return self._post(ModelVersionRead, path, body, idempotency_key)

    def list_model_versions(
        self,
        model: str,
        *,
        state: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[ModelVersionRead]:
        path = f"/models/{segment(model)}/versions"
        return self._get(Page[ModelVersionRead], path, state=state, cursor=cursor, limit=limit)

    def get_model_version(self, version_id: str) -> ModelVersionRead:
        return self._get(ModelVersionRead, f"/model-versions/{segment(version_id)}")

    def model_version(self, model: str, number: int) -> ModelVersionRead:
        """Version ``number`` of ``model`` (id or name)."""
        return self._get(ModelVersionRead, f"/models/{segment(model)}/versions/{int(number)}")

    def set_model_version_tag(self, version_id: str, key: str, value: str) -> ModelVersionRead:
        path = f"/model-versions/{segment(version_id)}/tags/{segment(key)}"
        return ModelVersionRead.from_api(self.request("PUT", path, json={"value": value}))

    def transition(
        self,
        version_id: str,
        action: str,
        *,
        intent: str,
        etag: str,
        environment: str | None = None,
        replaces: str | None = None,
        category: str | None = None,
        justification: str | None = None,
    ) -> ModelVersionRead:
        """Apply a lifecycle action (submit, validate, approve, reject, promote, deprecate,
        retire, suspend, reinstate) to the version whose current etag is ``etag``.

        ``category`` (drift, data-refresh, business-request, risk-review, incident) and
        ``justification`` say why a promotion happens, for the policy to read. A policy
        denial raises ``Conflict`` with the reasons on ``exc.policy_denial``."""
        body = {
            "intent": intent,
            "environment": environment,
            "replaces": replaces,
            "category": category,
            "justification": justification,
        }
        path = f"/model-versions/{segment(version_id)}/{segment(action)}"
        payload = {k: v for k, v in body.items() if v is not None}
        return ModelVersionRead.from_api(self._send("POST", path, payload, {"If-Match": etag}))

    def completeness(self, version_id: str) -> CompletenessReport:
        return self._get(CompletenessReport, f"/model-versions/{segment(version_id)}/completeness")

    def completeness_rules(self) -> list[CompletenessRuleRead]:
        return _parse_list(CompletenessRuleRead, self.request("GET", "/completeness-rules"))

    def set_completeness_rule(
        self, risk_tier: str, required: Sequence[str]
    ) -> CompletenessRuleRead:
        path = f"/completeness-rules/{segment(risk_tier)}"
        data = self.request("PUT", path, json={"required": list(required)})
        return CompletenessRuleRead.from_api(data)

    def model_history(
        self, model: str, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[TransitionRead]:
        path = f"/models/{segment(model)}/history"
        return self._get(Page[TransitionRead], path, cursor=cursor, limit=limit)

    def model_version_history(
        self, version_id: str, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[TransitionRead]:
        path = f"/model-versions/{segment(version_id)}/history"
        return self._get(Page[TransitionRead], path, cursor=cursor, limit=limit)

    def iter_model_history(self, model: str) -> Iterator[TransitionRead]:
        return self.paginate(self.model_history, model=model)

    def production(self, model: str) -> list[PointerRead]:
        """The version in production in each environment that has one."""
        data = self.request("GET", f"/models/{segment(model)}/production")
        return _parse_list(PointerRead, data)

    def production_at(self, model: str, *, time: datetime, environment: str) -> PointerRead:
        """Which version was in production in ``environment`` at ``time`` (timezone-aware)."""
        path = f"/models/{segment(model)}/at"
        return self._get(PointerRead, path, time=time, environment=environment)

    # -- plumbing ---------------------------------------------------------------------------

    def _send(self, method: str, path: str, payload: Any, extra_headers: Mapping[str, str]) -> Any:
        """Like ``request``, with extra headers (If-Match)."""
        headers = {**self._headers(None), **extra_headers}
        return parsed(self.exchange(method, path, json=payload, headers=headers))


def _parse_list(model: type[M], data: Any) -> list[M]:
    if not isinstance(data, list):
        raise UnexpectedResponse(200, "expected a JSON list")
    return [model.from_api(item) for item in data]
