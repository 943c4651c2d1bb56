"""Server self-check: a tenant's stored ledger against itself, its checkpoints and witnesses.

Hashes alone cannot stop someone with database access: they can edit a leaf with the triggers
off, or delete rows and fix the head. ``fsck`` recomputes everything from ``audit_events.leaf``
in one streaming pass and reports every place where the stored state disagrees: a sequence gap,
a stored leaf hash or interior node that is not what the data gives, a head whose size or root
differs, a signed checkpoint whose root is not the root of that prefix, and (the part a
rewriter cannot reach) a witnessed checkpoint kept outside the database that no longer fits.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustplane.audit import merkle
from trustplane.audit.checkpoints import list_checkpoints
from trustplane.audit.ledger import tree_head
from trustplane.audit.models import AuditEvent, LedgerNode
from trustplane.audit.notes import Verifier
from trustplane.audit.verify import Claim, PrefixTree, judge, read_claim, witness_claims

BATCH = 1 << 13
_SHOWN = 20  # problems listed one by one; the rest are counted


@dataclass(frozen=True)
class FsckReport:
    ok: bool
    tenant_id: str
    events: int
    head_size: int
    root: str  # base64 RFC 9162 root recomputed from every stored event
    signatures_checked: bool
    checked_checkpoints: list[int]
    witnessed_checkpoints: list[int]
    problems: list[str]
    first_bad_index: int | None
    failing_checkpoint: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Findings:
    problems: list[str] = field(default_factory=list)
    hidden: int = 0
    first_bad: int | None = None

    def add(self, message: str, index: int | None = None) -> None:
        if len(self.problems) < _SHOWN:
            self.problems.append(message)
        else:
            self.hidden += 1
        if index is not None and (self.first_bad is None or index < self.first_bad):
            self.first_bad = index


def fsck(
    session: Session,
    tenant_id: str,
    *,
    witness_lines: Iterable[str] | None = None,
    verifier: Verifier | None = None,
    origin: str | None = None,
) -> FsckReport:
    """Check one tenant's ledger; the session must be scoped to that tenant.

    ``verifier`` checks checkpoint signatures (without it only their roots are compared);
    ``origin`` names the ledger in witness lines (default: the stored checkpoints' origin).
    """
    found = _Findings()
    head_size, head_root = tree_head(session, tenant_id)
    stored = _stored_claims(session, tenant_id, verifier, origin, found)
    origin = origin or next((c.origin for c in stored if c.origin), None)
    witnessed = witness_claims(witness_lines or [], verifier, origin) if origin else []
    claims = [*stored, *witnessed]
    tree = PrefixTree([head_size, *(c.size for c in claims if c.root and c.size is not None)])
    count = _check_leaves(session, tenant_id, tree, found)
    _check_nodes(session, tenant_id, count, found)
    if head_size != count:
        found.add(f"head: size {head_size}, but {count} events are stored", min(head_size, count))
    elif tree.roots[head_size] != head_root:
        found.add("head: its frontier does not give the root of the stored events")
    judge(claims, tree.roots, count)
    failed = sorted((c for c in claims if c.problem), key=lambda c: c.size or 0)
    for claim in failed:
        found.add(f"{claim.source} (size {claim.size}): {claim.problem}")
    if found.hidden:
        found.problems.append(f"{found.hidden} more problems not shown")
    return FsckReport(
        ok=not found.problems,
        tenant_id=tenant_id,
        events=count,
        head_size=head_size,
        root=base64.b64encode(tree.root()).decode("ascii"),
        signatures_checked=verifier is not None,
        checked_checkpoints=[c.size for c in stored if c.size is not None and not c.problem],
        witnessed_checkpoints=[c.size for c in witnessed if c.size is not None and not c.problem],
        problems=found.problems,
        first_bad_index=found.first_bad,
        failing_checkpoint=next((c.size for c in failed if c.size is not None), None),
    )


def _stored_claims(
    session: Session,
    tenant_id: str,
    verifier: Verifier | None,
    origin: str | None,
    found: _Findings,
) -> list[Claim]:
    """Every stored checkpoint, its note checked against its own row and the tenant."""
    claims: list[Claim] = []
    after = None
    while page := list_checkpoints(session, tenant_id, after, BATCH):
        for row in page:
            claim = read_claim(row.note, f"checkpoint {row.size}", verifier, origin, row.size)
            if claim.origin is not None and not claim.origin.endswith(f"/ledger/{tenant_id}"):
                claim.problem, claim.root = f"origin {claim.origin!r} is another ledger's", None
            elif claim.root is not None and claim.root != bytes(row.root_hash):
                claim.problem = "its root_hash column differs from the root its note signs"
            claims.append(claim)
        after = page[-1].size
    return claims


def _check_leaves(session: Session, tenant_id: str, tree: PrefixTree, found: _Findings) -> int:
    """Hash every event's leaf in sequence order against its stored level-0 node; return how
    many events there are (leaves of the recomputed tree)."""
    last, expected = -1, 0
    while rows := (
        session.execute(
            select(AuditEvent.seq, AuditEvent.leaf)
            .where(AuditEvent.tenant_id == tenant_id, AuditEvent.seq > last)
            .order_by(AuditEvent.seq)
            .limit(BATCH)
        ).all()
    ):
        hashes = [merkle.leaf_hash(leaf.encode("utf-8")) for _, leaf in rows]
        stored = _level(session, tenant_id, 0, rows[0][0], rows[-1][0] + 1)
        for (seq, _), digest in zip(rows, hashes, strict=True):
            if seq != expected:  # a gap is reported once; checking goes on after it
                found.add(f"event {expected}: missing (the next stored event is {seq})", expected)
            if stored.get(seq) != digest:
                found.add(f"event {seq}: its leaf does not hash to the stored leaf node", seq)
            expected = seq + 1
        tree.extend(hashes)
        last = rows[-1][0]
    return tree.size


def _level(session: Session, tenant_id: str, level: int, start: int, stop: int) -> dict[int, bytes]:
    rows = session.execute(
        select(LedgerNode.idx, LedgerNode.hash).where(
            LedgerNode.tenant_id == tenant_id,
            LedgerNode.level == level,
            LedgerNode.idx >= start,
            LedgerNode.idx < stop,
        )
    )
    return {int(idx): bytes(digest) for idx, digest in rows}


def _check_nodes(session: Session, tenant_id: str, size: int, found: _Findings) -> None:
    """Every perfect subtree of the tree of ``size`` leaves is stored, once, and no other;
    every stored interior node is the hash of its two stored children."""
    stats = session.execute(
        select(LedgerNode.level, func.count(), func.min(LedgerNode.idx), func.max(LedgerNode.idx))
        .where(LedgerNode.tenant_id == tenant_id)
        .group_by(LedgerNode.level)
    )
    present = {int(level): (int(n), int(low), int(high)) for level, n, low, high in stats}
    for level in sorted(set(present) | set(range(size.bit_length()))):
        n, low, high = present.get(level, (0, 0, -1))
        if (n, low, high) != (size >> level, 0, (size >> level) - 1):
            found.add(
                f"level {level}: {n} nodes stored (indices {low}..{high}), "
                f"a tree of {size} leaves has {size >> level}",
                size if level == 0 and high >= size else None,
            )
        if level:
            _check_parents(session, tenant_id, level, high, found)


def _check_parents(
    session: Session, tenant_id: str, level: int, high: int, found: _Findings
) -> None:
    for start in range(0, high + 1, BATCH):
        parents = _level(session, tenant_id, level, start, start + BATCH)
        children = _level(session, tenant_id, level - 1, 2 * start, 2 * (start + BATCH))
        for idx, digest in sorted(parents.items()):
            left, right = children.get(2 * idx), children.get(2 * idx + 1)
            if left is not None and right is not None and merkle.node_hash(left, right) != digest:
                span = f"[{idx << level}, {(idx + 1) << level})"
                found.add(f"node ({level}, {idx}): not the hash of its children (leaves {span})")
