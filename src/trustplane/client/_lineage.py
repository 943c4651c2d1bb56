"""SDK methods for lineage: the graph queries, and sending OpenLineage events.

A node is ``dataset:NAMESPACE:NAME``, ``job:NAMESPACE:NAME`` (Marquez's form; namespaces
such as ``s3://lake`` may contain colons) or a Trustplane id (``dv_``, ``fv_``, ``run_``,
``mv_``; ``ds_``, ``ft_``, ``mdl_`` stand for all their versions). The server parses it.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from typing import Any

from trustplane.client._base import BaseClient, parsed, segment
from trustplane.client.models import (
    LineageAffectedVersion,
    LineageCompleteness,
    LineageGraph,
    LineageImpact,
    LineageImpactNode,
    LineagePath,
    LineageReceivedEvent,
    OpenLineageResult,
    Page,
)


class LineageMethods(BaseClient):
    def lineage_upstream(
        self, node: str, *, depth: int | None = None, max_nodes: int | None = None
    ) -> LineageGraph:
        """What ``node`` was made from, up to ``depth`` edges away (server default 20)."""
        return self._get(
            LineageGraph, "/lineage/upstream", node=node, depth=depth, max_nodes=max_nodes
        )

    def lineage_downstream(
        self, node: str, *, depth: int | None = None, max_nodes: int | None = None
    ) -> LineageGraph:
        """What was made from ``node``, up to ``depth`` edges away."""
        return self._get(
            LineageGraph, "/lineage/downstream", node=node, depth=depth, max_nodes=max_nodes
        )

    def lineage_show(self, node: str, *, max_nodes: int | None = None) -> LineageGraph:
        """The node and its direct neighbours on both sides."""
        return self._get(LineageGraph, "/lineage/show", node=node, max_nodes=max_nodes)

    def lineage_impact(
        self,
        node: str,
        *,
        kind: str | None = None,
        in_production: bool | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> LineageImpact:
        """One page of everything derived from ``node`` (id order), with totals per node kind
        and the number of production pointers reached. ``kind`` keeps one node kind
        (``model_version``...); ``in_production`` keeps the model versions in production."""
        return self._get(
            LineageImpact,
            "/lineage/impact",
            node=node,
            kind=kind,
            in_production=in_production,
            cursor=cursor,
            limit=limit,
        )

    def iter_lineage_impact(
        self, node: str, *, kind: str | None = None, in_production: bool | None = None
    ) -> Iterator[LineageImpactNode]:
        """Every node derived from ``node``, page by page."""
        return self.paginate(self.lineage_impact, node=node, kind=kind, in_production=in_production)

    def lineage_path(self, node: str, *, depth: int | None = None) -> LineagePath:
        """Every path from a raw source to ``node`` (a version or run id)."""
        return self._get(LineagePath, "/lineage/path", node=node, depth=depth)

    def lineage_completeness(self, node: str) -> list[LineageCompleteness]:
        """Lineage completeness of a model version, or of each version of a model."""
        data = self.request("GET", "/lineage/completeness", params={"node": node})
        return [LineageCompleteness.from_api(item) for item in data]

    def list_deprecated_feature_users(
        self,
        *,
        feature: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[LineageAffectedVersion]:
        """Model versions trained on a deprecated feature version (of ``feature`` if given)."""
        return self._get(
            Page[LineageAffectedVersion],
            "/lineage/deprecated-features",
            feature=feature,
            cursor=cursor,
            limit=limit,
        )

    def iter_deprecated_feature_users(
        self, *, feature: str | None = None
    ) -> Iterator[LineageAffectedVersion]:
        return self.paginate(self.list_deprecated_feature_users, feature=feature)

    def list_flagged_dataset_users(
        self,
        *,
        dataset: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[LineageAffectedVersion]:
        """Model versions that used a dataset version flagged for removal."""
        return self._get(
            Page[LineageAffectedVersion],
            "/lineage/flagged-datasets",
            dataset=dataset,
            cursor=cursor,
            limit=limit,
        )

    def iter_flagged_dataset_users(
        self, *, dataset: str | None = None
    ) -> Iterator[LineageAffectedVersion]:
        return self.paginate(self.list_flagged_dataset_users, dataset=dataset)

    def list_lineage_events(
        self,
        *,
        run_uuid: str | None = None,
        job_namespace: str | None = None,
        job_name: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[LineageReceivedEvent]:
        """OpenLineage events received, oldest first, by runId or job."""
        return self._get(
            Page[LineageReceivedEvent],
            "/lineage/events",
            run_uuid=run_uuid,
            job_namespace=job_namespace,
            job_name=job_name,
            cursor=cursor,
            limit=limit,
        )

    def get_lineage_event(self, event_id: str) -> LineageReceivedEvent:
        """One received event with its body as sent."""
        return self._get(LineageReceivedEvent, f"/lineage/events/{segment(event_id)}")

    def send_openlineage(
        self, event: Mapping[str, Any], *, compress: bool = False
    ) -> OpenLineageResult:
        """Send one OpenLineage RunEvent (a JSON object), gzipped if ``compress``.

        Pipelines usually send events with the openlineage-python client instead; this is for
        replaying stored events or events built by hand.
        """
        body = json.dumps(event).encode("utf-8")
        headers = {**self._headers(None), "Content-Type": "application/json"}
        if compress:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        response = self.exchange("POST", "/lineage", content=body, headers=headers)
        return OpenLineageResult.from_api(parsed(response))
