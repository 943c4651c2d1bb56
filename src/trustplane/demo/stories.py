"""The two releases of the story: a governed high-risk one and an automatic low-risk one.

credit-default (high risk) is denied on its first promotion (a fairness gap measured from
its real predictions, and one sign-off short), then released with a risk officer's waiver
and two independent sign-offs. atm-cash-demand (low risk) goes from training to production
with no human: service accounts train, check, sign off and deploy it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from trustplane.client import Conflict, TrustplaneClient
from trustplane.client.registry_models import ModelVersionRead, RunRead
from trustplane.demo import DemoError, data
from trustplane.demo.cast import (
    APPROVER,
    CD,
    CHECKS,
    DEPLOYER,
    RELEASE_BOT,
    RISK,
    SECOND_APPROVER,
    TRAINER,
    VALIDATOR,
    Crew,
)
from trustplane.demo.catalogue import Catalogue
from trustplane.demo.report import Reporter

CREDIT, CASH = "credit-default", "atm-cash-demand"
TARGET = "prod"
CODE_REPO = "https://git.acme-bank.example/credit-risk/models"
WAIVED_RULE = "TP-FAIRNESS-GAP"
WAIVER_DAYS = 30


def governed_release(crew: Crew, cat: Catalogue, folder: Path, report: Reporter) -> dict[str, Any]:
    """credit-default: trained, validated, denied, waived, signed off twice, released."""
    model, run, version = _train_credit(crew, cat, folder, report)
    report.step(f"Validation and first sign-off: {VALIDATOR} validates, {APPROVER} approves")
    version = _act(crew[VALIDATOR], version, "validate", "backtest and fairness suite reviewed")
    version = _act(crew[APPROVER], version, "approve", "model risk committee sign-off")
    report.line(f"state {version.state}; {APPROVER}'s approval is a sign-off for every environment")
    denied = _denied_promotion(crew[DEPLOYER], version, report)
    waiver = _waiver(crew, version, report)
    _second_signoff(crew[SECOND_APPROVER], version, report)
    released = _governed_promotion(crew[DEPLOYER], version, report)
    return {
        "denied": denied,
        "waiver": waiver,
        "released": {
            **released,
            "artifact": str(model.path),
            "run": run.id,
            "metrics": model.metrics,
        },
    }


def _train_credit(
    crew: Crew, cat: Catalogue, folder: Path, report: Reporter
) -> tuple[data.TrainedModel, RunRead, ModelVersionRead]:
    """The CI job trains, records the run, registers the model and version, and submits."""
    report.step(f"Training: {TRAINER} (CI service account) trains {CREDIT} with scikit-learn")
    model = data.train_credit_model(
        cat.applications.file, cat.signals.file, folder / "credit_default_model.pkl"
    )
    inputs = [cat.applications.version_id, cat.signals.version_id, *cat.features.values()]
    trainer = crew[TRAINER]
    run = _record_run(trainer, "train-credit-default", model, inputs)
    trainer.register_model(
        CREDIT,
        description="Probability that a retail credit applicant repays",
        owner="credit-risk",
        intended_use="decide retail credit applications up to GBP 25,000",
        out_of_scope_uses=["business lending", "employment screening", "pricing insurance"],
        limitations=[
            "trained on one synthetic, seeded table: figures illustrate, they do not predict",
            _gap_limitation(model),
        ],
        risk_tier="high",
        business_unit="retail-lending",
        regulatory_tags=["consumer-duty", "eu-ai-act-annex-iii"],
    )
    version = trainer.create_model_version(
        CREDIT,
        model.digest,
        run_id=run.id,
        artifact_uri=model.path.as_uri(),
        description="Logistic regression on applications and open-banking signals",
        metrics=model.metrics,
        evaluations=model.evaluations,
    )
    _write_evaluations(folder / "credit_default_v1_evaluations.json", model.evaluations)
    report.line(f"run {run.id}: commit {run.commit_sha}, {len(inputs)} inputs")
    report.line(f"{CREDIT}@1 {version.id}, artifact {model.digest}")
    report.line(_figures(model))
    version = _act(trainer, version, "submit", "ready for independent validation")
    report.line(f"submitted by {TRAINER}: draft -> {version.state}")
    return model, run, version


def _second_signoff(
    approver: TrustplaneClient, version: ModelVersionRead, report: Reporter
) -> None:
    report.step(f"Second sign-off: {SECOND_APPROVER} (another release approver) signs off for prod")
    outcome = approver.sign_off(
        version.id,
        TARGET,
        comment="evidence and waiver reviewed; second line agrees",
        artifact_digest=version.artifact_digest,
    )
    verdict = "allowed" if outcome.decision.allowed else "still denied"
    report.line(f"sign-off {outcome.approval.id}; the policy now says: {verdict}")


def _governed_promotion(
    deployer: TrustplaneClient, version: ModelVersionRead, report: Reporter
) -> dict[str, Any]:
    report.step(f"Release: {DEPLOYER} (deployer) promotes {CREDIT}@1 to {TARGET} again")
    released = _promote(deployer, version.id, "Q4 retail credit release")
    page = deployer.list_decisions(model_version_id=version.id, checkpoint="promote", allowed=True)
    if not page.items:
        raise DemoError(f"no allowing decision was recorded for {CREDIT}@1")
    decision = page.items[0]
    report.line(f"allowed: decision {decision.id}, {len(decision.waived)} violation(s) waived")
    report.violations(decision.waived, waived=True)
    report.line(f"release {released['release']}: {CREDIT}@1 in production in {TARGET}")
    return {**released, "decision": decision.id}


def automatic_release(crew: Crew, cat: Catalogue, folder: Path, report: Reporter) -> dict[str, Any]:
    """atm-cash-demand: low risk, so machines take every step and the policy lets it pass."""
    report.step(f"Automatic path: {CASH} (low risk) goes to {TARGET} with no human")
    model = data.train_cash_model(cat.cash.file, folder / "atm_cash_model.pkl")
    trainer = crew[TRAINER]
    run = _record_run(trainer, "train-atm-cash-demand", model, [cat.cash.version_id])
    trainer.register_model(
        CASH,
        description="Next-day cash demand per ATM",
        owner="branch-operations",
        intended_use="plan ATM cash replenishment",
        out_of_scope_uses=["decisions about customers"],
        risk_tier="low",
        business_unit="operations",
    )
    version = trainer.create_model_version(
        CASH, model.digest, run_id=run.id, artifact_uri=model.path.as_uri(), metrics=model.metrics
    )
    version = _act(trainer, version, "submit", "nightly retrain")
    version = _act(crew[CHECKS], version, "validate", "automated backtest passed")
    version = _act(crew[RELEASE_BOT], version, "approve", "low risk, every automated check passed")
    released = _promote(crew[CD], version.id, "nightly retrain")
    report.line(f"{TRAINER} trained and submitted, {CHECKS} validated, {RELEASE_BOT} signed off,")
    report.line(f"{CD} promoted: release {released['release']} ({_figures(model)})")
    return {**released, "artifact": str(model.path), "run": run.id}


def _record_run(
    trainer: TrustplaneClient, job: str, model: data.TrainedModel, inputs: list[str]
) -> RunRead:
    started = datetime.now(UTC)
    return trainer.record_run(
        {
            "job_namespace": "ci://acme-bank/credit-risk",
            "job_name": job,
            "code_repo": CODE_REPO,
            "commit_sha": data.code_commit(),
            "env_fingerprint": data.environment_fingerprint(),
            "parameters": model.parameters,
            "metrics": model.metrics,
            "inputs": inputs,
            "artifacts": [
                {"name": "model", "uri": model.path.as_uri(), "digest": model.digest},
            ],
            "status": "completed",
            "started_at": started.isoformat(),
            "ended_at": datetime.now(UTC).isoformat(),
        }
    )


def _denied_promotion(
    deployer: TrustplaneClient, version: ModelVersionRead, report: Reporter
) -> dict[str, Any]:
    report.step(f"First promotion to {TARGET}: {DEPLOYER} (deployer) asks, the policy denies")
    try:
        _act(deployer, version, "promote", "Q4 retail credit release", environment=TARGET)
    except Conflict as exc:
        denial = exc.policy_denial
        if denial is None:
            raise
    else:
        raise DemoError(f"{CREDIT}@1 was promoted although the policy should deny it")
    report.line(f"denied (HTTP 409), decision {denial.decision_id}:")
    report.violations(denial.violations)
    if denial.missing_signoffs:
        roles = ", ".join(sorted({need.role for need in denial.missing_signoffs}))
        report.line(f"sign-off requests routed to: {roles}")
    return {
        "model": CREDIT,
        "version": version.version,
        "target": TARGET,
        "decision": denial.decision_id,
        "violations": [
            {"id": v.id, "message": v.message, "owner_role": v.owner_role}
            for v in denial.violations
        ],
        "missing_signoffs": [
            {"role": s.role, "message": s.message} for s in denial.missing_signoffs
        ],
    }


def _waiver(crew: Crew, version: ModelVersionRead, report: Reporter) -> dict[str, Any]:
    report.step(
        f"Waiver: {DEPLOYER} requests one for {WAIVED_RULE}, {RISK} (risk officer) approves"
    )
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=WAIVER_DAYS)
    control = "monthly manual review of declined under-30 applicants; retrain by next quarter"
    requested = crew[DEPLOYER].request_waiver(
        version.id,
        TARGET,
        [WAIVED_RULE],
        reason="thin-file applicants under 30; a bureau data fix is scheduled",
        compensating_control=control,
        expires_at=expires,
    )
    approved = crew[RISK].approve_waiver(requested.id, "control is adequate for 30 days")
    report.line(f"waiver {approved.id} {approved.status}, expires {approved.expires_at:%Y-%m-%d}")
    report.line(f"compensating control: {control}")
    return {
        "id": approved.id,
        "rule_ids": approved.rule_ids,
        "expires_at": approved.expires_at.isoformat(),
        "compensating_control": control,
        "requested_by": DEPLOYER,
        "approved_by": RISK,
    }


def _promote(deployer: TrustplaneClient, version_id: str, intent: str) -> dict[str, Any]:
    """Promote to the target; return what names the release (its transition id)."""
    version = deployer.get_model_version(version_id)
    version = _act(deployer, version, "promote", intent, environment=TARGET)
    model = deployer.get_model(version.model_id)
    release = release_of(deployer, model.name, version.id)
    if release is None:
        raise DemoError(
            f"{model.name}@{version.version} was promoted but is not listed as a release"
        )
    return {
        "model": model.name,
        "version": version.version,
        "version_id": version.id,
        "target": TARGET,
        "release": release,
        "artifact_digest": version.artifact_digest,
    }


def release_of(client: TrustplaneClient, model: str, version_id: str) -> str | None:
    """The id of the version's release to the target, as the releases API lists it."""
    releases = client.paginate(client.list_releases, model=model, environment=TARGET)
    return next((r.id for r in releases if r.model_version_id == version_id), None)


def _act(
    client: TrustplaneClient,
    version: ModelVersionRead,
    action: str,
    intent: str,
    *,
    environment: str | None = None,
) -> ModelVersionRead:
    return client.transition(
        version.id,
        action,
        intent=intent,
        etag=version.etag,
        environment=environment,
        category="business-request" if action == "promote" else None,
    )


def _gap_limitation(model: data.TrainedModel) -> str:
    """The disparity the fairness evaluation measured, stated as a limitation of the model."""
    rates = {e["group"]: e["value"] for e in model.evaluations if e["metric"] == "tpr"}
    young, older = rates[data.YOUNG], rates[data.OLDER]
    return (
        f"approves fewer applicants under 30 who would repay: true positive rate {young}"
        f" against {older} for 30 and over"
    )


def _figures(model: data.TrainedModel) -> str:
    metrics = ", ".join(f"{k} {v}" for k, v in model.metrics.items())
    groups = ", ".join(
        f"{e['metric']} {e['group']} {e['value']}" for e in model.evaluations if e["group"]
    )
    return f"{metrics}; {groups}" if groups else metrics


def _write_evaluations(path: Path, evaluations: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps(evaluations, indent=2) + "\n", encoding="utf-8")
