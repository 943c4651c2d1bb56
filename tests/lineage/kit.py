"""Build lineage graphs for tests straight into the registry's tables, with readable names.

Each node gets a real prefixed id; ``kit["orders1"]`` maps the test's name back to it, so a
test states its expected answer in names and compares ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from trustplane.audit import Origin
from trustplane.db.base import new_id, utcnow
from trustplane.db.session import scope_to_tenant, unit_of_work
from trustplane.identity.actor import Actor
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


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Kit:
    """Rows to insert for one tenant; ``commit`` writes them in one transaction."""

    factory: sessionmaker[Session]
    tenant: TenantCtx
    ids: dict[str, str] = field(default_factory=dict)
    rows: list[Any] = field(default_factory=list)
    _parents: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.ids[name]

    def names(self, ids: Any) -> Any:
        """Translate ids (or nested lists of ids) back into the test's names."""
        back = {v: k for k, v in self.ids.items()}
        if isinstance(ids, str):
            return back.get(ids, ids)
        return [self.names(i) for i in ids]

    @property
    def actor(self) -> Actor:
        return Actor.local_system(Origin("lineage-test"), self.tenant.id)

    def _base(self, prefix: str, name: str) -> dict[str, Any]:
        self.ids[name] = new_id(prefix)
        return {"id": self.ids[name], "tenant_id": self.tenant.id}

    def dataset(self, name: str, namespace: str, dataset_name: str) -> str:
        self.rows.append(
            Dataset(
                **self._base("ds", name),
                namespace=namespace,
                name=dataset_name,
                description="",
                created_at=utcnow(),
                created_by="test",
            )
        )
        return self.ids[name]

    def dataset_version(
        self,
        name: str,
        dataset: str,
        *,
        digested: bool = True,
        flagged: str | None = None,
    ) -> str:
        self.rows.append(
            DatasetVersion(
                **self._base("dv", name),
                dataset_id=self.ids[dataset],
                version=name,
                uri=None,
                digest=digest(name) if digested else None,
                schema=[],
                sensitivity="internal",
                approval_status="approved",
                flagged_for_removal=flagged is not None,
                flag_reason=flagged,
                created_at=utcnow(),
                created_by="test",
            )
        )
        return self.ids[name]

    def feature(self, name: str) -> str:
        self.rows.append(
            Feature(**self._base("ft", name), name=name, created_at=utcnow(), created_by="test")
        )
        return self.ids[name]

    def feature_version(
        self, name: str, feature: str, sources: tuple[str, ...] = (), deprecated: str | None = None
    ) -> str:
        self.rows.append(
            FeatureVersion(
                **self._base("fv", name),
                feature_id=self.ids[feature],
                version=name,
                definition="x",
                source_columns=[],
                review_status="approved",
                deprecated=deprecated is not None,
                deprecation_reason=deprecated,
                created_at=utcnow(),
                created_by="test",
            )
        )
        for source in sources:
            self.edge(source, name, "source")
        return self.ids[name]

    def run(
        self,
        name: str,
        inputs: tuple[str, ...] = (),
        outputs: tuple[str, ...] = (),
        *,
        job: tuple[str, str] | None = None,
        code: bool = True,
        env: bool = True,
    ) -> str:
        self.rows.append(
            Run(
                **self._base("run", name),
                job_namespace=job[0] if job else None,
                job_name=job[1] if job else None,
                code_repo="https://git.example/ml" if code else None,
                commit_sha="0" * 40 if code else None,
                env_fingerprint=digest("uv.lock") if env else None,
                status="completed",
                actor_id="test",
                created_at=utcnow(),
            )
        )
        for source in inputs:
            self.edge(source, name, "input")
        for target in outputs:
            self.edge(name, target, "output")
        return self.ids[name]

    def model(self, name: str) -> str:
        self.rows.append(
            Model(**self._base("mdl", name), name=name, created_at=utcnow(), created_by="test")
        )
        return self.ids[name]

    def model_version(
        self, name: str, model: str, version: int, run: str | None, state: str = "candidate"
    ) -> str:
        now = utcnow()
        self.rows.append(
            ModelVersion(
                **self._base("mv", name),
                model_id=self.ids[model],
                version=version,
                artifact_digest=digest(name),
                run_id=None,
                state=state,
                created_at=now,
                created_by="test",
                updated_at=now,
            )
        )
        self._parents[name] = model
        if run is not None:
            self.edge(run, name, "produced")
        return self.ids[name]

    def pointer(self, version: str, environment: str) -> None:
        self.rows.append(("pointer", version, environment))

    def edge(self, source: str, target: str, relation: str) -> None:
        self.rows.append(
            LineageEdge(
                tenant_id=self.tenant.id,
                source_id=self.ids.get(source, source),
                target_id=self.ids.get(target, target),
                relation=relation,
                created_at=utcnow(),
            )
        )

    def commit(self) -> None:
        with unit_of_work(self.factory) as session:
            scope_to_tenant(session, self.tenant.id)
            envs = dict(
                (name, env_id)
                for name, env_id in session.execute(
                    select(Environment.name, Environment.id).where(
                        Environment.tenant_id == self.tenant.id
                    )
                )
            )
            for row in self.rows:
                if isinstance(row, tuple):
                    continue
                session.add(row)
                session.flush()
            for row in self.rows:
                if isinstance(row, tuple):
                    _, version, env = row
                    session.add(
                        ProductionPointer(
                            tenant_id=self.tenant.id,
                            model_id=self.ids[self._parents[version]],
                            environment_id=envs[env],
                            model_version_id=self.ids[version],
                            since=utcnow(),
                            set_by="test",
                        )
                    )
        self.rows.clear()


def shop_graph(factory: sessionmaker[Session], tenant: TenantCtx) -> Kit:
    """The graph most lineage tests query.

    * raw_orders has orders1 and orders2 (flagged for removal); raw_users has users1 (no
      digest). Job airflow:clean_orders ran twice: etl1 read orders1 and users1 and wrote
      clean1; etl2 read orders2 and wrote clean2.
    * Features: spend1 (deprecated) <- clean1, spend2 <- clean2, age1 <- users1.
    * train1 read spend1 and age1 and produced churn1 (in production in prod); train2 read
      spend2 and clean2, has no environment fingerprint and produced churn2; train3 read
      nothing, has no code or environment and produced fraud1 (in production in staging).
    """
    kit = Kit(factory, tenant)
    kit.dataset("raw_orders", "s3://lake", "raw/orders")
    kit.dataset("raw_users", "postgres://db.internal:5432", "shop.public.users")
    kit.dataset("clean_orders", "s3://lake", "clean/orders")
    kit.dataset_version("orders1", "raw_orders")
    kit.dataset_version("orders2", "raw_orders", flagged="erasure request 42")
    kit.dataset_version("users1", "raw_users", digested=False)
    kit.dataset_version("clean1", "clean_orders")
    kit.dataset_version("clean2", "clean_orders")
    kit.run("etl1", ("orders1", "users1"), ("clean1",), job=("airflow", "clean_orders"))
    kit.run("etl2", ("orders2",), ("clean2",), job=("airflow", "clean_orders"))
    kit.feature("spend")
    kit.feature("age")
    kit.feature_version("spend1", "spend", ("clean1",), deprecated="leaks the label")
    kit.feature_version("spend2", "spend", ("clean2",))
    kit.feature_version("age1", "age", ("users1",))
    kit.run("train1", ("spend1", "age1"))
    kit.run("train2", ("spend2", "clean2"), env=False)
    kit.run("train3", code=False, env=False)
    kit.model("churn")
    kit.model("fraud")
    kit.model_version("churn1", "churn", 1, "train1", state="production")
    kit.model_version("churn2", "churn", 2, "train2")
    kit.model_version("fraud1", "fraud", 1, "train3", state="production")
    kit.pointer("churn1", "prod")
    kit.pointer("fraud1", "staging")
    kit.commit()
    return kit
