"""SDK methods for policy as code: bundles, decisions, the CI gate, sign-offs and waivers.

A refused step answers 409 ``policy-denied``; the SDK raises :class:`Conflict` and the
reasons are on ``exc.policy_denial`` (violations, waived ones, missing sign-offs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

from trustplane.client._base import BaseClient, segment
from trustplane.client.errors import UnexpectedResponse
from trustplane.client.models import ApiModel, Page
from trustplane.client.policy_models import (
    ActivationOutcome,
    ActivationRequestRead,
    ApprovalRead,
    DecisionRead,
    PolicyActivationRead,
    PolicyBundleRead,
    ReplayRead,
    SignoffOutcome,
    SweepRead,
    WaiverRead,
    WaiverReport,
)

M = TypeVar("M", bound=ApiModel)
Checkpoint = Literal["promote", "deploy"]


class PolicyMethods(BaseClient):
    # -- bundles ----------------------------------------------------------------------------

    def push_policy_bundle(
        self,
        files: Mapping[str, str],
        *,
        description: str = "",
        activate: bool = False,
        force: bool = False,
        reason: str = "",
        idempotency_key: str | None = None,
    ) -> ActivationOutcome:
        """Store a bundle (``path -> text``: ``.rego`` files and ``data.json``) after the server
        compiles and tests it; ``activate`` also makes it active in the same transaction.

        A bundle that does not compile is refused (``ValidationFailed``); failing tests refuse
        it (``Conflict``) unless ``force``. Both carry ``exc.policy_test_report``.
        """
        body = {
            "files": dict(files),
            "description": description,
            "activate": activate,
            "force": force,
            "reason": reason,
        }
        return self._post(ActivationOutcome, "/policy/bundles", body, idempotency_key)

    def list_policy_bundles(self) -> list[PolicyBundleRead]:
        """Every bundle of the tenant, newest first, the shipped one included."""
        return _parse_list(PolicyBundleRead, self.request("GET", "/policy/bundles"))

    def get_policy_bundle(self, digest: str | None = None) -> PolicyBundleRead:
        """One bundle with its files; the active one when ``digest`` is None."""
        if digest is None:
            return self._get(PolicyBundleRead, "/policy/bundles/active")
        return self._get(PolicyBundleRead, f"/policy/bundles/{segment(digest)}")

    def activate_policy_bundle(self, digest: str, *, reason: str = "") -> ActivationOutcome:
        """Activate now, or (when the active policy asks for it) file a request a second
        person approves: the outcome holds ``activated`` or ``pending``."""
        path = f"/policy/bundles/{segment(digest)}/activate"
        return self._post(ActivationOutcome, path, {"reason": reason}, None)

    def list_policy_activations(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[PolicyActivationRead]:
        """Activations, oldest first: which digest replaced which, who asked, who approved."""
        return self._get(
            Page[PolicyActivationRead], "/policy/activations", cursor=cursor, limit=limit
        )

    def list_activation_requests(self) -> list[ActivationRequestRead]:
        """Activations waiting for (or given) a second person's approval, newest first."""
        data = self.request("GET", "/policy/activation-requests")
        return _parse_list(ActivationRequestRead, data)

    def approve_activation_request(self, request_id: str) -> ActivationOutcome:
        """The second person's approval: activates the requested bundle."""
        path = f"/policy/activation-requests/{segment(request_id)}/approve"
        return self._post(ActivationOutcome, path, {}, None)

    # -- decisions --------------------------------------------------------------------------

    def list_decisions(
        self,
        *,
        model_version_id: str | None = None,
        checkpoint: str | None = None,
        allowed: bool | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[DecisionRead]:
        return self._get(
            Page[DecisionRead],
            "/decisions",
            model_version_id=model_version_id,
            checkpoint=checkpoint,
            allowed=allowed,
            cursor=cursor,
            limit=limit,
        )

    def iter_decisions(
        self,
        *,
        model_version_id: str | None = None,
        checkpoint: str | None = None,
        allowed: bool | None = None,
    ) -> Iterator[DecisionRead]:
        return self.paginate(
            self.list_decisions,
            model_version_id=model_version_id,
            checkpoint=checkpoint,
            allowed=allowed,
        )

    def get_decision(self, decision_id: str) -> DecisionRead:
        """One decision, with the fact document (``input``) it was made over."""
        return self._get(DecisionRead, f"/decisions/{segment(decision_id)}")

    def replay_decision(self, decision_id: str) -> ReplayRead:
        """Evaluate the recorded input with the recorded bundle again (nothing is recorded)."""
        path = f"/decisions/{segment(decision_id)}/replay"
        return self._post(ReplayRead, path, {}, None)

    def evaluate_policy(
        self, model: str, version: int, target: str, *, checkpoint: Checkpoint = "promote"
    ) -> DecisionRead:
        """What promoting version ``version`` of ``model`` to ``target`` would get now.
        Nothing is recorded or changed; the answer has no decision id."""
        body = {"model": model, "version": version, "target": target, "checkpoint": checkpoint}
        return self._post(DecisionRead, "/policy/eval", body, None)

    def gate(
        self, model: str, version: int, target: str, *, checkpoint: Checkpoint = "promote"
    ) -> DecisionRead:
        """The CI gate: the same evaluation as :meth:`evaluate_policy`, recorded as a
        decision whether it allows or not. A denial is an answer here, not an error."""
        body = {"model": model, "version": version, "target": target, "checkpoint": checkpoint}
        return self._post(DecisionRead, "/policy/gate", body, None)

    # -- sign-offs --------------------------------------------------------------------------

    def sign_off(
        self,
        version_id: str,
        environment: str,
        *,
        comment: str,
        decision: Literal["approve", "reject"] = "approve",
        artifact_digest: str | None = None,
        idempotency_key: str | None = None,
    ) -> SignoffOutcome:
        """Approve (or reject) the version's artifact for ``environment``.

        Pass the ``artifact_digest`` you reviewed: the server refuses the sign-off if the
        version's artifact is another. The outcome holds the policy's view afterwards.
        """
        body = {
            "environment": environment,
            "decision": decision,
            "comment": comment,
            "artifact_digest": artifact_digest,
        }
        path = f"/model-versions/{segment(version_id)}/approvals"
        return self._post(SignoffOutcome, path, body, idempotency_key)

    def list_sign_offs(self, version_id: str) -> list[ApprovalRead]:
        """Every sign-off given for the version, whatever its environment or digest."""
        data = self.request("GET", f"/model-versions/{segment(version_id)}/approvals")
        return _parse_list(ApprovalRead, data)

    # -- waivers ----------------------------------------------------------------------------

    def request_waiver(
        self,
        version_id: str,
        environment: str,
        rule_ids: Sequence[str],
        *,
        reason: str,
        compensating_control: str,
        expires_at: datetime,
        review_at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> WaiverRead:
        """Ask for a time-bound pass on ``rule_ids`` for one version in one environment;
        it counts once someone else holding ``waiver.approve`` approves it."""
        body = {
            "model_version_id": version_id,
            "environment": environment,
            "rule_ids": list(rule_ids),
            "reason": reason,
            "compensating_control": compensating_control,
            "expires_at": expires_at,
            "review_at": review_at,
        }
        return self._post(WaiverRead, "/waivers", body, idempotency_key)

    def list_waivers(
        self,
        *,
        status: str | None = None,
        model_version_id: str | None = None,
        review_required: bool | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[WaiverRead]:
        """Waivers; ``status`` is pending, approved, rejected or expired."""
        return self._get(
            Page[WaiverRead],
            "/waivers",
            status=status,
            model_version_id=model_version_id,
            review_required=review_required,
            cursor=cursor,
            limit=limit,
        )

    def iter_waivers(
        self,
        *,
        status: str | None = None,
        model_version_id: str | None = None,
        review_required: bool | None = None,
    ) -> Iterator[WaiverRead]:
        return self.paginate(
            self.list_waivers,
            status=status,
            model_version_id=model_version_id,
            review_required=review_required,
        )

    def get_waiver(self, waiver_id: str) -> WaiverRead:
        return self._get(WaiverRead, f"/waivers/{segment(waiver_id)}")

    def approve_waiver(self, waiver_id: str, comment: str) -> WaiverRead:
        """Approve a pending waiver (never the requester's own)."""
        path = f"/waivers/{segment(waiver_id)}/approve"
        return self._post(WaiverRead, path, {"comment": comment}, None)

    def reject_waiver(self, waiver_id: str, comment: str) -> WaiverRead:
        path = f"/waivers/{segment(waiver_id)}/reject"
        return self._post(WaiverRead, path, {"comment": comment}, None)

    def sweep_waivers(self) -> SweepRead:
        """Expire due waivers now; production versions that relied on them are flagged."""
        return self._post(SweepRead, "/waivers/sweep", {}, None)

    def waiver_report(self) -> WaiverReport:
        """Rules waived often lately: candidates to codify in the policy."""
        return self._get(WaiverReport, "/waivers/report")


def _parse_list(model: type[M], data: Any) -> list[M]:
    if not isinstance(data, list):
        raise UnexpectedResponse(200, "expected a JSON list")
    return [model.from_api(item) for item in data]
