"""The evidence bundle of a release: an in-toto Statement v1 in a signed DSSE envelope.

The predicate (docs/evidence.md) is the release as the registry records it, its model card,
its lineage subgraph, and its audit events with their ledger indices, RFC 9162 inclusion
proofs and the signed checkpoint they verify against. The statement is RFC 8785 canonical
JSON; integers stay integers.

The envelope is signed with the installation's ledger key, the Ed25519 key that already signs
every checkpoint: an auditor pins one public key (``/api/v1/audit/public-key``, or the PEM of
``/api/v1/evidence/public-key``) for both, and a checkpoint from another key cannot pass.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import trustplane
from trustplane.audit import merkle
from trustplane.audit.canonical import canonical_json, rfc3339
from trustplane.audit.checkpoints import fresh_checkpoint
from trustplane.audit.ledger import fetch_nodes
from trustplane.audit.models import AuditEvent, LedgerCheckpoint
from trustplane.audit.notes import Signer
from trustplane.db.base import utcnow
from trustplane.db.session import is_writer, scope_to_tenant
from trustplane.evidence import dsse, releases
from trustplane.evidence.card import render_markdown
from trustplane.evidence.cards import card_facts
from trustplane.evidence.formats import PREDICATE_TYPE, STATEMENT_TYPE
from trustplane.identity.actor import Actor
from trustplane.policy.models import Waiver
from trustplane.registry.models import Model, ModelVersion
from trustplane.registry.repository import sources_of, tenant_of

_NODE_BATCH = 400  # coordinates per query: SQLite binds three parameters per node


def build(
    session: Session, actor: Actor, release_id: str, signer: Signer, ledger_name: str
) -> dict[str, Any]:
    """The signed envelope of ``release_id`` (NotFound if the tenant has no such release)."""
    statement = statement_of(session, actor, release_id, signer, ledger_name)
    return dsse.sign(canonical_json(statement), signer)


def statement_of(
    session: Session, actor: Actor, release_id: str, signer: Signer, ledger_name: str
) -> dict[str, Any]:
    tenant = tenant_of(actor)
    story = releases.story(session, actor, release_id)
    version = session.get_one(ModelVersion, story["release"]["version_id"])
    model = session.get_one(Model, version.model_id)
    card = card_facts(session, version, model)
    checkpoint = fresh_checkpoint(session, tenant, signer, ledger_name)
    with _ledger_reader(session, tenant) as reader:
        events = _events(reader, tenant, _targets(session, tenant, story), checkpoint.size)
        proved = _prove(reader, tenant, events, checkpoint.size)
    digest = version.artifact_digest.removeprefix("sha256:")
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": f"{model.name}@{version.version}", "digest": {"sha256": digest}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "tenant": tenant,
            "generated_at": rfc3339(utcnow()),
            "generator": f"trustplane {trustplane.__version__}",
            "promotion": story["release"],
            "model": story["model"],
            "run": {
                k: v for k, v in story["training"].items() if k not in ("datasets", "features")
            },
            "lineage": _lineage(session, tenant, story),
            "checks": story["checks"],
            "decisions": story["decisions"],
            "approvals": story["approvals"],
            "waivers": story["waivers"],
            "after": story["after"],
            "model_card": {"facts": card, "markdown": render_markdown(card)},
            "ledger": _ledger(checkpoint, signer, proved),
        },
    }


@contextmanager
def _ledger_reader(session: Session, tenant: str) -> Iterator[Session]:
    """A session that sees every leaf of the fresh checkpoint: the writer itself, or a new
    one whose snapshot starts after the checkpoint was committed."""
    if is_writer(session):
        yield session
        return
    with Session(bind=session.get_bind()) as fresh:
        scope_to_tenant(fresh, tenant)
        yield fresh


def _targets(session: Session, tenant: str, story: dict[str, Any]) -> dict[str, list[str]]:
    release, training = story["release"], story["training"]
    waivers = session.scalars(
        select(Waiver.id).where(
            Waiver.tenant_id == tenant, Waiver.model_version_id == release["version_id"]
        )
    )
    return {
        "model_version": [release["version_id"]],
        "model": [release["model_id"]],
        "run": [training["run_id"]] if training["run_id"] else [],
        "dataset_version": [d["id"] for d in training["datasets"]],
        "feature_version": [f["id"] for f in training["features"]],
        "waiver": list(waivers),
    }


def _events(
    session: Session, tenant: str, targets: dict[str, list[str]], size: int
) -> list[tuple[int, str]]:
    """The events about ``targets`` among the first ``size`` leaves, in ledger order.

    One query per kind of target, each an index lookup on (tenant, kind, id): a single query
    OR-ing the kinds together makes SQLite walk the tenant's whole ledger instead.
    """
    found: dict[int, str] = {}
    for kind, ids in targets.items():
        if not ids:
            continue
        rows = session.execute(
            select(AuditEvent.seq, AuditEvent.leaf).where(
                AuditEvent.tenant_id == tenant,
                AuditEvent.target_kind == kind,
                AuditEvent.target_id.in_(ids),
            )
        )
        found |= {int(seq): leaf for seq, leaf in rows if seq < size}
    return sorted(found.items())


def _prove(
    session: Session, tenant: str, events: list[tuple[int, str]], size: int
) -> list[dict[str, Any]]:
    """Each event with its audit path; the nodes of all paths are read in a few queries."""
    coords = sorted({node for seq, _ in events for node in merkle.inclusion_nodes(seq, size)})
    nodes: dict[merkle.NodeId, bytes] = {}
    for start in range(0, len(coords), _NODE_BATCH):
        nodes |= fetch_nodes(session, tenant, coords[start : start + _NODE_BATCH])
    return [
        {
            "index": seq,
            "leaf": leaf,
            "inclusion_proof": [_b64(h) for h in merkle.inclusion_proof(seq, size, nodes)],
        }
        for seq, leaf in events
    ]


def _ledger(
    checkpoint: LedgerCheckpoint, signer: Signer, events: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "tree_size": checkpoint.size,
        "root_hash": _b64(bytes(checkpoint.root_hash)),
        "checkpoint": checkpoint.note,
        "verifier_key": signer.verifier().key_string(),
        "events": events,
    }


def _lineage(session: Session, tenant: str, story: dict[str, Any]) -> dict[str, Any]:
    """The subgraph behind the version: data and features into the run, the run into the
    version, features from their source data."""
    training, version_id = story["training"], story["release"]["version_id"]
    edges: list[list[str]] = []
    run_id = training["run_id"]
    if run_id:
        edges.append([run_id, version_id])
        feature_ids = [f["id"] for f in training["features"]]
        for target, sources in sources_of(session, tenant, [run_id, *feature_ids]).items():
            edges += [[source, target] for source in sources]
    return {"datasets": training["datasets"], "features": training["features"], "edges": edges}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
