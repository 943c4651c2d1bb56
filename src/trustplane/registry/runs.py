"""Training runs (and OpenLineage job runs): what code ran where, on which inputs, producing what.

Inputs are ``input`` lineage edges (dataset or feature version -> run), outputs ``output``
edges (run -> dataset version). Edges that would close a cycle are refused: a run cannot
produce a dataset version it (transitively) read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor, Target, record
from trustplane.audit.canonical import rfc3339
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id, utcnow
from trustplane.db.pagination import keyset_page
from trustplane.errors import Conflict, InvalidInput, NotFound
from trustplane.registry.models import LineageEdge, Run
from trustplane.registry.repository import (
    add_edges,
    get_scoped,
    require_nodes,
    run_by_external_id,
    sources_of,
    targets_of,
    tenant_of,
)
from trustplane.registry.schemas import RunCreate, RunRead

RUN_STATUSES = ("running", "completed", "failed", "aborted")


def record_run(
    session: Session,
    actor: AuditActor,
    *,
    job_namespace: str | None = None,
    job_name: str | None = None,
    external_run_id: str | None = None,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
    code_repo: str | None = None,
    commit_sha: str | None = None,
    env_fingerprint: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    artifacts: Sequence[Mapping[str, Any]] = (),
    status: str = "completed",
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> Run:
    """Record a run with its input and output links; a known external run id answers 409."""
    tenant = tenant_of(actor)
    _check_status(status)
    if started_at and ended_at and ended_at < started_at:
        raise InvalidInput("ended_at is before started_at")
    if external_run_id is not None and run_by_external_id(session, tenant, external_run_id):
        raise Conflict(f"a run with external id '{external_run_id}' is already recorded")
    inputs, outputs = _links(session, tenant, inputs, outputs)
    run = Run(
        id=new_id("run"),
        tenant_id=tenant,
        job_namespace=job_namespace,
        job_name=job_name,
        external_run_id=external_run_id,
        code_repo=code_repo,
        commit_sha=commit_sha,
        env_fingerprint=env_fingerprint,
        parameters=dict(parameters or {}),
        metrics=dict(metrics or {}),
        artifacts=[dict(a) for a in artifacts],
        status=status,
        started_at=started_at,
        ended_at=ended_at,
        actor_id=actor.principal_id,
        created_at=utcnow(),
    )
    session.add(run)
    session.flush()
    _no_cycle(session, tenant, inputs, outputs)
    add_edges(session, tenant, _edges(run.id, inputs, outputs), new_node=True)
    record(
        session,
        actor,
        "run.record",
        Target("run", run.id, _job(run)),
        details=EventDetails(
            digests=[str(a["digest"]) for a in run.artifacts if a.get("digest")],
            # what the run was, so the ledger alone can tell who trained what on which code
            payload={
                "inputs": inputs,
                "outputs": outputs,
                "commit": commit_sha,
                "code_repo": code_repo,
                "env_fingerprint": env_fingerprint,
                "parameters": run.parameters,
                "metrics": run.metrics,
                "status": status,
                "started_at": rfc3339(started_at) if started_at else None,
                "ended_at": rfc3339(ended_at) if ended_at else None,
            },
        ),
    )
    return run


def update_run(
    session: Session,
    actor: AuditActor,
    *,
    external_run_id: str,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
    status: str | None = None,
    ended_at: datetime | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> Run:
    """Add links, an end time, a status or metrics to the run known by ``external_run_id``
    (an OpenLineage COMPLETE or FAIL event after START)."""
    tenant = tenant_of(actor)
    run = run_by_external_id(session, tenant, external_run_id)
    if run is None:
        raise NotFound(f"run with external id '{external_run_id}' not found")
    session.refresh(run, with_for_update=True)
    if status is not None:
        _check_status(status)
        run.status = status
    if ended_at is not None:
        if run.started_at is not None and ended_at < run.started_at:
            raise InvalidInput("ended_at is before started_at")
        run.ended_at = ended_at
    if metrics:
        run.metrics = {**run.metrics, **metrics}
    inputs, outputs = _links(session, tenant, inputs, outputs)
    _no_cycle(session, tenant, [*inputs, run.id], outputs)
    added = add_edges(session, tenant, _edges(run.id, inputs, outputs))
    record(
        session,
        actor,
        "run.update",
        Target("run", run.id, _job(run)),
        details=EventDetails(
            payload={"status": run.status, "edges": [[s, t, r] for s, t, r in added]}
        ),
    )
    return run


def create(session: Session, actor: AuditActor, data: RunCreate) -> RunRead:
    run = record_run(
        session,
        actor,
        **data.model_dump(exclude={"artifacts"}),
        artifacts=[a.model_dump() for a in data.artifacts],
    )
    return read(session, run)


def read(session: Session, run: Run) -> RunRead:
    out = RunRead.model_validate(run)
    out.inputs = sources_of(session, run.tenant_id, [run.id])[run.id]
    out.outputs = targets_of(session, run.tenant_id, [run.id], "output")[run.id]
    return out


def get(session: Session, actor: AuditActor, run_id: str) -> RunRead:
    return read(session, get_scoped(session, Run, tenant_of(actor), run_id, "run"))


def list_runs(
    session: Session,
    actor: AuditActor,
    job_namespace: str | None,
    job_name: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[RunRead], str | None]:
    tenant = tenant_of(actor)
    query = select(Run).where(Run.tenant_id == tenant)
    if job_namespace is not None:
        query = query.where(Run.job_namespace == job_namespace)
    if job_name is not None:
        query = query.where(Run.job_name == job_name)
    rows, nxt = keyset_page(session, query, Run.id, cursor, limit)
    ids = [r.id for r in rows]
    ins, outs = sources_of(session, tenant, ids), targets_of(session, tenant, ids, "output")
    items = []
    for row in rows:
        item = RunRead.model_validate(row)
        item.inputs, item.outputs = ins[row.id], outs[row.id]
        items.append(item)
    return items, nxt


def _check_status(status: str) -> None:
    if status not in RUN_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(RUN_STATUSES)}")


def _job(run: Run) -> str | None:
    if run.job_name is None:
        return None
    return f"{run.job_namespace or ''}:{run.job_name}"


def _links(
    session: Session, tenant: str, inputs: Sequence[str], outputs: Sequence[str]
) -> tuple[list[str], list[str]]:
    ins, outs = list(dict.fromkeys(inputs)), list(dict.fromkeys(outputs))
    require_nodes(session, tenant, ins, ["dataset_version", "feature_version"], "input")
    require_nodes(session, tenant, outs, ["dataset_version"], "output")
    return ins, outs


def _edges(run_id: str, inputs: list[str], outputs: list[str]) -> list[tuple[str, str, str]]:
    return [(i, run_id, "input") for i in inputs] + [(run_id, o, "output") for o in outputs]


def _no_cycle(session: Session, tenant: str, upstream_of: list[str], outputs: list[str]) -> None:
    """Refuse an output that is (transitively) upstream of the run: the graph stays acyclic."""
    if not outputs or not upstream_of:
        return
    direct = set(outputs) & set(upstream_of)
    if direct:
        raise InvalidInput(
            f"lineage cycle: '{sorted(direct)[0]}' cannot be both input and output of a run"
        )
    edge = LineageEdge.__table__.c
    seed = select(edge.source_id.label("node")).where(
        edge.tenant_id == tenant, edge.target_id.in_(upstream_of)
    )
    closure = seed.cte("upstream", recursive=True)
    closure = closure.union(
        select(edge.source_id).where(edge.tenant_id == tenant, edge.target_id == closure.c.node)
    )
    hit = session.scalar(select(closure.c.node).where(closure.c.node.in_(outputs)).limit(1))
    if hit is not None:
        raise InvalidInput(
            f"lineage cycle: '{hit}' is upstream of this run and cannot be its output"
        )
