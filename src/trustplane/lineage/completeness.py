"""Lineage completeness of a model version: which of the links an auditor expects to follow
are recorded, as a score from 0 to 1 and the list of what is missing.

The expected links, in order:

* ``producing_run``: the version names the run that produced it;
* ``run_inputs``: that run records at least one input (dataset or feature version);
* ``code_repo`` and ``code_commit``: the run says which code it ran;
* ``environment_fingerprint``: the run says in which environment (lockfile or image digest);
* ``input_digests``: every dataset version upstream of the model version has a content digest
  (versions reported by OpenLineage often have none), and there is at least one;
* ``sources_traced``: every path upstream ends at a dataset version, so the model can be
  followed back to raw data (a feature version or run with nothing recorded upstream breaks it).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor
from trustplane.errors import InvalidInput
from trustplane.lineage import graph
from trustplane.lineage.nodes import kind_of
from trustplane.lineage.queries import roots_of
from trustplane.lineage.schemas import CheckRead, CompletenessRead
from trustplane.registry.models import DatasetVersion, LineageEdge, Model, ModelVersion, Run

CHECKS = (
    "producing_run",
    "run_inputs",
    "code_repo",
    "code_commit",
    "environment_fingerprint",
    "input_digests",
    "sources_traced",
)


def completeness(session: Session, actor: AuditActor, node: str) -> list[CompletenessRead]:
    """Completeness of the model version ``node`` names (a model: each of its versions)."""
    tenant, versions = roots_of(session, actor, node)
    if any(kind_of(v) != "model_version" for v in versions):
        raise InvalidInput(f"'{node}' is not a model version or a model")
    if not versions:
        return []
    edge = LineageEdge.__table__.c
    rows = session.execute(
        select(ModelVersion, Model.name)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(ModelVersion.tenant_id == tenant, ModelVersion.id.in_(versions))
        .order_by(ModelVersion.id)
    )
    produced_by: dict[str, str] = dict(
        (target, source)
        for target, source in session.execute(
            select(edge.target_id, edge.source_id).where(
                edge.tenant_id == tenant,
                edge.target_id.in_(versions),
                edge.relation == "produced",
            )
        )
    )
    upstream: dict[str, set[str]] = {v: set() for v in versions}
    origins = select(ModelVersion.id).where(
        ModelVersion.tenant_id == tenant, ModelVersion.id.in_(versions)
    )
    for origin, node_id in graph.reach_pairs(session, tenant, origins, "upstream"):
        upstream[origin].add(node_id)
    everything = set().union(*upstream.values())
    with_parents = graph.has_upstream(session, tenant, everything)
    digests = _digests(session, tenant, everything)
    out = []
    for version, model_name in rows:
        run_id = version.run_id or produced_by.get(version.id)
        run = session.get(Run, run_id) if run_id else None
        above = upstream[version.id]
        checks = _checks(session, tenant, run, above, with_parents, digests)
        present = [c.name for c in checks if c.present]
        out.append(
            CompletenessRead(
                model_version_id=version.id,
                model_id=version.model_id,
                model_name=model_name,
                version=version.version,
                score=round(len(present) / len(checks), 4),
                present=present,
                missing=[c.name for c in checks if not c.present],
                checks=checks,
            )
        )
    return out


def _digests(session: Session, tenant: str, nodes: set[str]) -> dict[str, str | None]:
    wanted = sorted(n for n in nodes if kind_of(n) == "dataset_version")
    found: dict[str, str | None] = {}
    for start in range(0, len(wanted), 1000):
        found.update(
            (version_id, digest)
            for owner, version_id, digest in session.execute(
                select(DatasetVersion.tenant_id, DatasetVersion.id, DatasetVersion.digest).where(
                    DatasetVersion.id.in_(wanted[start : start + 1000])  # by id: see describe
                )
            )
            if owner == tenant
        )
    return found


def _checks(
    session: Session,
    tenant: str,
    run: Run | None,
    above: set[str],
    with_parents: set[str],
    digests: dict[str, str | None],
) -> list[CheckRead]:
    inputs = _inputs(session, tenant, run.id) if run is not None else []
    datasets = sorted(n for n in above if kind_of(n) == "dataset_version")
    undigested = [d for d in datasets if not digests.get(d)]
    roots = [n for n in above if n not in with_parents]
    loose = sorted(n for n in roots if kind_of(n) != "dataset_version")

    def check(name: str, present: bool, yes: str, no: str) -> CheckRead:
        return CheckRead(name=name, present=present, detail=yes if present else no)

    where = f"run {run.id}" if run is not None else "no run"
    return [
        check("producing_run", run is not None, where, "the version names no producing run"),
        check("run_inputs", bool(inputs), f"{len(inputs)} input(s)", "the run records no input"),
        check(
            "code_repo",
            bool(run and run.code_repo),
            str(run.code_repo if run else ""),
            "no code repository",
        ),
        check(
            "code_commit",
            bool(run and run.commit_sha),
            str(run.commit_sha if run else ""),
            "no commit",
        ),
        check(
            "environment_fingerprint",
            bool(run and run.env_fingerprint),
            str(run.env_fingerprint if run else ""),
            "no environment fingerprint",
        ),
        check(
            "input_digests",
            bool(datasets) and not undigested,
            f"{len(datasets)} dataset version(s), all with digests",
            "no dataset version upstream"
            if not datasets
            else f"without digest: {', '.join(undigested[:5])}",
        ),
        check(
            "sources_traced",
            bool(roots) and not loose,
            "every upstream path ends at a dataset version",
            f"untraced: {', '.join(loose[:5])}" if loose else "no raw source upstream",
        ),
    ]


def _inputs(session: Session, tenant: str, run_id: str) -> list[str]:
    edge = LineageEdge.__table__.c
    return list(
        session.scalars(
            select(edge.source_id).where(
                edge.tenant_id == tenant, edge.target_id == run_id, edge.relation == "input"
            )
        )
    )
