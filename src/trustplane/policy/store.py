"""Bundles of a tenant: push (vetted in the sandbox), list, show, activate, the active one.

A tenant that never activated a bundle is governed by the bundle shipped with Trustplane;
there is no ungoverned state. Activation is an audited event naming the old and new digests.
When the active bundle's data says ``config.activation.second_approval: true``, activating
another bundle needs a second person holding ``policy.approve``: the first asks, the second
activates.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import cache
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from trustplane.audit import AuditActor, Target, record
from trustplane.audit.events import EventDetails
from trustplane.db.base import new_id, utcnow
from trustplane.db.pagination import keyset_page
from trustplane.errors import Conflict, Forbidden, InvalidInput, NotFound
from trustplane.identity.actor import Actor
from trustplane.identity.roles import Permission
from trustplane.policy import sandbox
from trustplane.policy.bundle import Bundle, BundleError, from_files
from trustplane.policy.bundle import default as shipped_bundle
from trustplane.policy.models import ActivationRequest, PolicyActivation, PolicyBundle
from trustplane.policy.schemas import (
    ActivationOutcome,
    ActivationRead,
    ActivationRequestRead,
    BundleRead,
    TestReportRead,
)

SHIPPED_BY = "trustplane"

_bundles: OrderedDict[str, Bundle] = OrderedDict()
_bundles_lock = threading.Lock()


@cache
def shipped() -> Bundle:
    return shipped_bundle()


def _tenant(actor: AuditActor) -> str:
    if actor.tenant_id is None:
        raise InvalidInput("this action needs a tenant")
    return actor.tenant_id


def active_digest(session: Session, tenant_id: str) -> str:
    found = session.scalar(
        select(PolicyActivation.digest)
        .where(PolicyActivation.tenant_id == tenant_id)
        .order_by(PolicyActivation.id.desc())
        .limit(1)
    )
    return found or shipped().digest


def active(session: Session, tenant_id: str) -> Bundle:
    """The bundle that governs the tenant now (files cached by digest: they never change)."""
    return by_digest(session, tenant_id, active_digest(session, tenant_id))


def by_digest(session: Session, tenant_id: str, digest: str) -> Bundle:
    """A stored bundle of the tenant, or the shipped one; :class:`NotFound` if neither.

    Files are cached by digest (a digest names its files for good), so a cached bundle costs
    only the check that this tenant stores it.
    """
    if digest == shipped().digest:
        return shipped()
    with _bundles_lock:
        cached = _bundles.get(digest)
    if cached is not None:
        stored = session.scalar(
            select(PolicyBundle.digest).where(
                PolicyBundle.tenant_id == tenant_id, PolicyBundle.digest == digest
            )
        )
        if stored is None:
            raise NotFound(f"policy bundle {digest} not found")
        return cached
    row = session.get(PolicyBundle, (tenant_id, digest))
    if row is None:
        raise NotFound(f"policy bundle {digest} not found")
    bundle = from_files(row.files)
    with _bundles_lock:
        _bundles[digest] = bundle
        while len(_bundles) > 64:
            _bundles.popitem(last=False)
    return bundle


_stored: set[tuple[str, str]] = set()
"""(tenant, digest) pairs known to be stored and committed: bundle rows are insert-only, so a
pair once committed stays, and later decisions skip the lookup."""
_SEEN = "trustplane.policy.stored"


@event.listens_for(Session, "after_commit")
def _remember_stored(session: Session) -> None:
    _stored.update(session.info.pop(_SEEN, ()))


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_SEEN, None)


def ensure_stored(session: Session, tenant_id: str, bundle: Bundle) -> None:
    """Keep the shipped bundle a decision used, so replay works after Trustplane upgrades."""
    key = (tenant_id, bundle.digest)
    if key in _stored:
        return
    session.info.setdefault(_SEEN, set()).add(key)
    if session.get(PolicyBundle, key) is not None:
        return
    session.add(
        PolicyBundle(
            tenant_id=tenant_id,
            digest=bundle.digest,
            files=dict(bundle.files),
            description="shipped with Trustplane",
            tests_passed=len(bundle.tests()),
            tests_failed=0,
            forced=False,
            created_at=utcnow(),
            created_by=SHIPPED_BY,
            event_id="",
        )
    )
    session.flush()


def vet(files: dict[str, str]) -> tuple[Bundle, sandbox.Report]:
    """Parse and test files as a bundle in the sandbox; bad names or data.json raise 400."""
    try:
        bundle = from_files(files)
    except BundleError as exc:
        raise InvalidInput(f"not a policy bundle: {exc}") from exc
    return bundle, sandbox.check(bundle)


def report_read(report: sandbox.Report) -> TestReportRead:
    return TestReportRead.model_validate(report.as_dict())


def push(
    session: Session,
    actor: Actor,
    files: dict[str, str],
    *,
    description: str = "",
    force: bool = False,
) -> tuple[BundleRead, TestReportRead]:
    """Store a bundle that compiles; failing tests refuse it unless forced (and audited)."""
    tenant = _tenant(actor)
    bundle, report = vet(files)
    summary = report_read(report)
    if not report.compiled or report.error is not None:
        raise InvalidInput(
            f"the bundle was refused: {report.error or 'it does not compile'}",
            report=summary.model_dump(),
        )
    failed = [t.name for t in report.failed]
    if failed and not force:
        raise Conflict(
            f"the bundle's tests fail ({len(failed)}): {', '.join(failed[:10])};"
            " fix them, or push with force (audited)",
            report=summary.model_dump(),
        )
    existing = session.get(PolicyBundle, (tenant, bundle.digest))
    if existing is not None:
        return _read(session, existing), summary
    event = record(
        session,
        actor,
        "policy.push",
        Target("policy_bundle", bundle.digest),
        details=EventDetails(
            digests=[bundle.digest],
            reason="pushed with failing tests (forced)" if failed else None,
            payload={
                "files": sorted(bundle.files),
                "tests_passed": len(report.tests) - len(failed),
                "tests_failed": failed,
                "forced": bool(failed),
            },
        ),
    )
    row = PolicyBundle(
        tenant_id=tenant,
        digest=bundle.digest,
        files=dict(bundle.files),
        description=description,
        tests_passed=len(report.tests) - len(failed),
        tests_failed=len(failed),
        forced=bool(failed),
        created_at=event.occurred_at,
        created_by=actor.principal_id,
        event_id=event.id,
    )
    session.add(row)
    session.flush()
    return _read(session, row), summary


def activate(session: Session, actor: Actor, digest: str, *, reason: str = "") -> ActivationOutcome:
    """Make ``digest`` the tenant's bundle, or ask a second person when policy says so."""
    tenant = _tenant(actor)
    bundle = by_digest(session, tenant, digest)
    current = active_digest(session, tenant)
    if current == bundle.digest:
        raise Conflict(f"bundle {digest} is already active")
    if _second_approval(active(session, tenant)):
        return ActivationOutcome(pending=_request(session, actor, bundle.digest, reason))
    return ActivationOutcome(activated=_activate(session, actor, bundle, current, None, reason))


def approve_activation(session: Session, actor: Actor, request_id: str) -> ActivationOutcome:
    """The second person: someone other than the requester, holding ``policy.approve``."""
    tenant = _tenant(actor)
    request = session.get(ActivationRequest, request_id, with_for_update=True)
    if request is None or request.tenant_id != tenant:
        raise NotFound(f"activation request {request_id} not found")
    if request.status != "pending":
        raise Conflict(f"activation request {request_id} is {request.status}")
    actor.require(
        Permission.POLICY_APPROVE,
        target_kind="policy_bundle",
        target_id=request.digest,
        action="policy.activate",
    )
    if request.requested_by == actor.principal_id:
        raise Forbidden(
            "the person who asked for an activation cannot also approve it",
            action="policy.activate",
            target_kind="policy_bundle",
            target_id=request.digest,
        )
    bundle = by_digest(session, tenant, request.digest)
    current = active_digest(session, tenant)
    request.status = "activated"
    request.decided_by = actor.principal_id
    request.decided_at = utcnow()
    activation = _activate(session, actor, bundle, current, request.requested_by, request.reason)
    return ActivationOutcome(activated=activation)


def _second_approval(bundle: Bundle) -> bool:
    config = bundle.data.get("config")
    activation = config.get("activation") if isinstance(config, dict) else None
    return isinstance(activation, dict) and activation.get("second_approval") is True


def _request(session: Session, actor: Actor, digest: str, reason: str) -> ActivationRequestRead:
    now = utcnow()
    row = ActivationRequest(
        id=new_id("par"),
        tenant_id=_tenant(actor),
        digest=digest,
        reason=reason,
        status="pending",
        requested_by=actor.principal_id,
        requested_at=now,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor,
        "policy.activation_requested",
        Target("policy_bundle", digest),
        details=EventDetails(digests=[digest], reason=reason or None, payload={"id": row.id}),
    )
    return ActivationRequestRead.model_validate(row)


def _activate(
    session: Session,
    actor: Actor,
    bundle: Bundle,
    previous: str,
    requested_by: str | None,
    reason: str,
) -> ActivationRead:
    tenant = _tenant(actor)
    ensure_stored(session, tenant, bundle)
    event = record(
        session,
        actor,
        "policy.activate",
        Target("policy_bundle", bundle.digest),
        details=EventDetails(
            digests=[previous, bundle.digest],
            reason=reason or None,
            payload={"old": previous, "new": bundle.digest, "requested_by": requested_by},
        ),
    )
    row = PolicyActivation(
        id=new_id("pa"),
        tenant_id=tenant,
        digest=bundle.digest,
        previous_digest=previous,
        requested_by=requested_by or actor.principal_id,
        approved_by=actor.principal_id if requested_by else None,
        at=event.occurred_at,
        event_id=event.id,
    )
    session.add(row)
    session.flush()
    return ActivationRead.model_validate(row)


def _read(session: Session, row: PolicyBundle, *, files: bool = False) -> BundleRead:
    current = active_digest(session, row.tenant_id)
    return BundleRead(
        digest=row.digest,
        description=row.description,
        tests_passed=row.tests_passed,
        tests_failed=row.tests_failed,
        forced=row.forced,
        created_at=row.created_at,
        created_by=row.created_by,
        active=row.digest == current,
        shipped=row.created_by == SHIPPED_BY,
        files=dict(row.files) if files else None,
    )


def _shipped_read(session: Session, tenant: str, *, files: bool = False) -> BundleRead:
    bundle = shipped()
    return BundleRead(
        digest=bundle.digest,
        description="shipped with Trustplane",
        tests_passed=len(bundle.tests()),
        tests_failed=0,
        forced=False,
        created_at=None,
        created_by=SHIPPED_BY,
        active=active_digest(session, tenant) == bundle.digest,
        shipped=True,
        files=dict(bundle.files) if files else None,
    )


def show(session: Session, actor: AuditActor, digest: str | None) -> BundleRead:
    """One bundle with its files; the active one when ``digest`` is None."""
    tenant = _tenant(actor)
    wanted = digest or active_digest(session, tenant)
    row = session.get(PolicyBundle, (tenant, wanted))
    if row is not None:
        return _read(session, row, files=True)
    if wanted == shipped().digest:
        return _shipped_read(session, tenant, files=True)
    raise NotFound(f"policy bundle {wanted} not found")


def list_bundles(session: Session, actor: AuditActor) -> list[BundleRead]:
    """Every bundle of the tenant, newest first, the shipped one included."""
    tenant = _tenant(actor)
    rows = session.scalars(
        select(PolicyBundle)
        .where(PolicyBundle.tenant_id == tenant)
        .order_by(PolicyBundle.created_at.desc())
        .limit(500)
    ).all()
    items = [_read(session, r) for r in rows]
    if all(i.digest != shipped().digest for i in items):
        items.append(_shipped_read(session, tenant))
    return items


def activations(
    session: Session, actor: AuditActor, cursor: str | None, limit: int
) -> tuple[list[ActivationRead], str | None]:
    query = select(PolicyActivation).where(PolicyActivation.tenant_id == _tenant(actor))
    rows, nxt = keyset_page(session, query, PolicyActivation.id, cursor, limit)
    return [ActivationRead.model_validate(r) for r in rows], nxt


def activation_requests(session: Session, actor: AuditActor) -> list[ActivationRequestRead]:
    rows = session.scalars(
        select(ActivationRequest)
        .where(ActivationRequest.tenant_id == _tenant(actor))
        .order_by(ActivationRequest.id.desc())
        .limit(200)
    )
    return [ActivationRequestRead.model_validate(r) for r in rows]


def config(bundle: Bundle) -> dict[str, Any]:
    found = bundle.data.get("config")
    return found if isinstance(found, dict) else {}
