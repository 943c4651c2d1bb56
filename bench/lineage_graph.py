"""The lineage benchmark's graph: 1,000-node domains bulk-inserted into the real tables.

Each domain (a team) holds 2 raw datasets of 50 versions; 100 ETL runs, run i reading
version i mod 50 of both and writing one cleaned version; 10 features of 20 versions, each
built from 2 cleaned versions (3 per domain deprecated); 250 training runs, each reading 6
feature versions and 1 cleaned version and producing one of 250 model versions (10 models x
25 versions; the newest of each is in production in ``prod``). Bulk inserts are for set-up
speed only; the queries measured are the product's.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from trustplane.audit import Origin
from trustplane.db.base import new_id, utcnow
from trustplane.db.session import scope_to_tenant, unit_of_work
from trustplane.identity.actor import Actor
from trustplane.identity.models import Environment
from trustplane.identity.schemas import TenantCreate
from trustplane.identity.tenants import create_tenant
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

NODES_PER_DOMAIN = 1000
GRAPH_PREFIXES = ("dv", "fv", "run", "mv")
INSERT_ORDER = (
    Dataset, DatasetVersion, Feature, FeatureVersion, Run, Model, ModelVersion,
    ProductionPointer, LineageEdge,
)  # fmt: skip


@dataclass
class Graph:
    """What the benchmark needs to know about the graph it built."""

    tenant_id: str
    nodes: int
    edges: int
    datasets: list[str]  # dataset:NS:NAME references of the raw datasets
    build_seconds: float


class Rows:
    """Rows collected per table (with the columns every row of that table shares), then
    bulk-inserted in dependency order."""

    def __init__(self, tenant_id: str) -> None:
        now, who = utcnow(), "bench"
        self.tenant_id = tenant_id
        self.by_table: dict[Any, list[dict[str, Any]]] = {}
        self.nodes = 0
        self.common: dict[Any, dict[str, Any]] = {
            Dataset: {"namespace": "s3://lake", "description": ""},
            DatasetVersion: {"schema": [], "sensitivity": "internal", "approval_status": "approved",
                             "flagged_for_removal": False},
            Feature: {"description": ""},
            FeatureVersion: {"definition": "x", "source_columns": [], "review_status": "approved"},
            Run: {"parameters": {}, "metrics": {}, "artifacts": [], "status": "completed",
                  "actor_id": who, "job_namespace": None, "job_name": None,
                  "code_repo": "https://git.example/ml", "commit_sha": "0" * 40},
            Model: {"description": "", "out_of_scope_uses": [], "regulatory_tags": [],
                    "latest_version": 25},
            ModelVersion: {"description": "", "metrics": {}, "evaluations": [], "tags": {},
                           "row_version": 1, "updated_at": now},
            ProductionPointer: {"since": now, "set_by": who, "row_version": 1},
            LineageEdge: {"created_at": now},
        }  # fmt: skip
        self.stamped = {"created_at": now, "created_by": who}

    def add(self, model: Any, prefix: str | None, **values: Any) -> str:
        row = {"tenant_id": self.tenant_id, **self.common[model], **values}
        if prefix is not None:
            row["id"] = new_id(prefix)
            row.update(
                self.stamped if model is not Run else {"created_at": self.stamped["created_at"]}
            )
            self.nodes += prefix in GRAPH_PREFIXES
        self.by_table.setdefault(model, []).append(row)
        return str(row.get("id", ""))

    def edge(self, source: str, target: str, relation: str) -> None:
        self.add(LineageEdge, None, source_id=source, target_id=target, relation=relation)


def _domain(rows: Rows, rng: random.Random, d: int, prod_env: str) -> list[str]:
    """One team's 1,000 nodes; returns its raw dataset references."""
    refs, raw = [], []
    for r in range(2):
        ds = rows.add(Dataset, "ds", name=f"domain{d}/raw{r}")
        refs.append(f"dataset:s3://lake:domain{d}/raw{r}")
        digests = [f"sha256:{v:064x}" for v in range(50)]
        raw.append([
            rows.add(DatasetVersion, "dv", dataset_id=ds, version=f"v{v}", digest=digests[v])
            for v in range(50)
        ])  # fmt: skip
    clean = rows.add(Dataset, "ds", name=f"domain{d}/clean")
    cleaned = []
    for i in range(100):
        run = rows.add(Run, "run", job_namespace="airflow", job_name=f"domain{d}.etl")
        for versions in raw:
            rows.edge(versions[i % 50], run, "input")
        dv = rows.add(DatasetVersion, "dv", dataset_id=clean, version=f"v{i}",
                      digest=f"sha256:{i:064x}")  # fmt: skip
        rows.edge(run, dv, "output")
        cleaned.append(dv)
    features = []
    for f in range(10):
        ft = rows.add(Feature, "ft", name=f"domain{d}.f{f}")
        for v in range(20):
            old = f < 3 and v == 0
            fv = rows.add(FeatureVersion, "fv", feature_id=ft, version=f"v{v}", deprecated=old,
                          deprecation_reason="bench" if old else None)  # fmt: skip
            for source in rng.sample(cleaned, 2):
                rows.edge(source, fv, "source")
            features.append(fv)
    for m in range(10):
        model = rows.add(Model, "mdl", name=f"domain{d}.model{m}")
        for v in range(1, 26):
            run = rows.add(Run, "run")
            for source in [*rng.sample(features, 6), rng.choice(cleaned)]:
                rows.edge(source, run, "input")
            mv = rows.add(ModelVersion, "mv", model_id=model, version=v, run_id=run,
                          artifact_digest=f"sha256:{v:064x}",
                          state="production" if v == 25 else "approved")  # fmt: skip
            rows.edge(run, mv, "produced")
            if v == 25:
                rows.add(ProductionPointer, None, model_id=model, environment_id=prod_env,
                         model_version_id=mv)  # fmt: skip
    return refs


def build(factory: sessionmaker[Session], domains: int, seed: int = 7) -> Graph:
    """A new tenant holding ``domains`` x 1,000 nodes, bulk-inserted, then analysed."""
    started = time.perf_counter()
    with unit_of_work(factory) as session:
        tenant_id = create_tenant(
            session,
            Actor.local_system(Origin("bench-lineage")),
            TenantCreate(name=f"lineage-{new_id('b')[-8:].lower()}"),
            token_ttl_days=1,
        ).tenant.id
    rng, rows = random.Random(seed), Rows(tenant_id)
    with unit_of_work(factory) as session:
        scope_to_tenant(session, tenant_id)
        prod = session.scalar(
            select(Environment.id).where(
                Environment.tenant_id == tenant_id, Environment.name == "prod"
            )
        )
        references = [r for d in range(domains) for r in _domain(rows, rng, d, str(prod))]
        for model in INSERT_ORDER:
            batch = rows.by_table.get(model, [])
            for start in range(0, len(batch), 5000):
                session.execute(insert(model), batch[start : start + 5000])
    analyze(factory.kw["bind"])
    return Graph(
        tenant_id=tenant_id,
        nodes=rows.nodes,
        edges=len(rows.by_table[LineageEdge]),
        datasets=references,
        build_seconds=time.perf_counter() - started,
    )


def analyze(engine: Engine) -> None:
    """The steady state of a live database: planner statistics, and on PostgreSQL the
    visibility map autovacuum would have set (index-only scans then skip the heap)."""
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
