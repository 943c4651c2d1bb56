"""The demo's data and models: synthetic tables written to files, real scikit-learn models.

Fixed seeds make every seed produce the same tables, so the figures the demo prints are
reproducible. The credit table carries a built-in disparity: applicants under 30 have thin
credit files (a higher ``short_history_index``), so a model that never sees their age still
approves fewer of the under-30s who would repay. The fairness evaluation measures that from
the model's real predictions, and the policy then has something real to deny.

scikit-learn is an optional dependency (the ``demo`` extra); it is imported only here, inside
the functions that need it, and :func:`require_sklearn` says how to install it.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import importlib.util
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trustplane.client.artifacts import artifact_digest
from trustplane.demo import DemoError

SEED = 20261
CREDIT_ROWS = 4000
CASH_ROWS = 1200
TEST_SHARE = 0.3
APPROVE_AT = 0.5  # approve when the predicted probability of repaying reaches this
AUC_FLOOR = 0.75  # the validation suite's bar, the same as the default policy's for high risk
FAIRNESS_TOLERANCE = 0.1  # largest true-positive-rate gap between age bands the suite accepts
YOUNG, OLDER = "under-30", "30-plus"

#: Columns of the applications table, in the order make_classification produces them.
APPLICATION_COLUMNS = (
    "income_ratio",
    "credit_utilisation",
    "missed_payments_12m",
    "months_on_book",
    "short_history_index",
    "debt_to_income",
)
SIGNAL_COLUMNS = ("salary_regularity", "overdraft_days")
CASH_COLUMNS = ("branch_footfall", "payday_proximity", "weather_index", "local_events")

INSTALL_HINT = "the demo needs scikit-learn: pip install 'trustplane[demo]'"


@dataclass(frozen=True, slots=True)
class DataFile:
    """A table the demo wrote, with what a dataset version records about it."""

    path: Path
    digest: str
    rows: int
    schema: list[dict[str, str]]


@dataclass(frozen=True, slots=True)
class TrainedModel:
    """A saved model and what its training run and version record."""

    path: Path
    digest: str
    parameters: dict[str, Any]
    metrics: dict[str, float]
    evaluations: list[dict[str, Any]] = field(default_factory=list)


def require_sklearn() -> None:
    """Fail with one line (not a traceback) when scikit-learn is not installed."""
    if importlib.util.find_spec("sklearn") is None:
        raise DemoError(INSTALL_HINT)


# -- the credit tables --------------------------------------------------------------------


def write_credit_tables(folder: Path) -> tuple[DataFile, DataFile]:
    """Credit applications (with the age band and the outcome) and open-banking signals."""
    from sklearn.datasets import make_classification  # type: ignore[import-untyped]

    x, y = make_classification(
        n_samples=CREDIT_ROWS,
        n_features=len(APPLICATION_COLUMNS) + len(SIGNAL_COLUMNS),
        n_informative=5,
        n_redundant=0,
        class_sep=0.7,
        flip_y=0.03,
        weights=[0.3, 0.7],
        shuffle=False,
        random_state=SEED,
    )
    young = np.random.default_rng(SEED).random(CREDIT_ROWS) < 0.3
    x[young, APPLICATION_COLUMNS.index("short_history_index")] += 2.0
    ids = [f"APP-{i:05d}" for i in range(1, CREDIT_ROWS + 1)]
    bands = [YOUNG if flag else OLDER for flag in young]
    n_app = len(APPLICATION_COLUMNS)
    applications = [
        [ids[i], bands[i], *(f"{v:.4f}" for v in x[i, :n_app]), int(y[i])]
        for i in range(CREDIT_ROWS)
    ]
    signals = [[ids[i], *(f"{v:.4f}" for v in x[i, n_app:])] for i in range(CREDIT_ROWS)]
    apps = _write_csv(
        folder / "credit_applications.csv",
        ["application_id", "age_band", *APPLICATION_COLUMNS, "repaid"],
        ["string", "string", *("float" for _ in APPLICATION_COLUMNS), "int"],
        applications,
    )
    sig = _write_csv(
        folder / "open_banking_signals.csv",
        ["application_id", *SIGNAL_COLUMNS],
        ["string", *("float" for _ in SIGNAL_COLUMNS)],
        signals,
    )
    return apps, sig


def train_credit_model(applications: DataFile, signals: DataFile, out: Path) -> TrainedModel:
    """Logistic regression on the joined tables; metrics and fairness from real predictions."""
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

    apps = _read_csv(applications.path)
    extra = {row["application_id"]: row for row in _read_csv(signals.path)}
    x = np.array(
        [
            [float(r[c]) for c in APPLICATION_COLUMNS]
            + [float(extra[r["application_id"]][c]) for c in SIGNAL_COLUMNS]
            for r in apps
        ]
    )
    y = np.array([int(r["repaid"]) for r in apps])
    band = np.array([r["age_band"] for r in apps])
    parameters: dict[str, Any] = {
        "algorithm": "logistic-regression",
        "C": 1.0,
        "max_iter": 500,
        "scaler": "standard",
        "test_share": TEST_SHARE,
        "approve_at": APPROVE_AT,
        "seed": SEED,
        "features": [*APPLICATION_COLUMNS, *SIGNAL_COLUMNS],
    }
    x_train, x_test, y_train, y_test, _, band_test = train_test_split(
        x, y, band, test_size=TEST_SHARE, random_state=SEED, stratify=y
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500))
    model.fit(x_train, y_train)
    scores = model.predict_proba(x_test)[:, 1]
    metrics = _classification_metrics(y_test, scores)
    rates = {g: _true_positive_rate(y_test, scores, band_test == g) for g in (YOUNG, OLDER)}
    return TrainedModel(
        path=_save(model, out),
        digest=artifact_digest(out),
        parameters=parameters,
        metrics=metrics,
        evaluations=_credit_evaluations(metrics["auc"], rates),
    )


def _classification_metrics(y: Any, scores: Any) -> dict[str, float]:
    from sklearn.metrics import (  # type: ignore[import-untyped]
        accuracy_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    approved = scores >= APPROVE_AT
    return {
        "auc": round(float(roc_auc_score(y, scores)), 4),
        "accuracy": round(float(accuracy_score(y, approved)), 4),
        "precision": round(float(precision_score(y, approved)), 4),
        "recall": round(float(recall_score(y, approved)), 4),
    }


def _true_positive_rate(y: Any, scores: Any, members: Any) -> float:
    """Of the group's applicants who repaid, the share the model approves."""
    repaid = (y == 1) & members
    return round(float((scores[repaid] >= APPROVE_AT).mean()), 4)


def _credit_evaluations(auc: float, tpr: dict[str, float]) -> list[dict[str, Any]]:
    """The validation suite's results in the registry's evaluation format."""
    best = max(tpr.values())
    return [
        {
            "name": "auc-holdout",
            "passed": auc >= AUC_FLOOR,
            "value": auc,
            "threshold": AUC_FLOOR,
            "metric": "auc",
            "group": None,
        },
        *(
            {
                "name": f"tpr-age-{group}",
                "passed": best - value <= FAIRNESS_TOLERANCE,
                "value": value,
                "threshold": FAIRNESS_TOLERANCE,
                "metric": "tpr",
                "group": group,
            }
            for group, value in tpr.items()
        ),
    ]


# -- the cash-demand table (the low-risk model) -------------------------------------------


def write_cash_table(folder: Path) -> DataFile:
    """Daily ATM withdrawals per branch with their drivers (no personal data)."""
    from sklearn.datasets import make_regression

    x, y = make_regression(
        n_samples=CASH_ROWS, n_features=4, n_informative=3, noise=12.0, random_state=SEED
    )
    rows = [
        [f"BR-{i % 40:03d}", *(f"{v:.4f}" for v in x[i]), f"{y[i] + 250.0:.2f}"]
        for i in range(CASH_ROWS)
    ]
    return _write_csv(
        folder / "atm_withdrawals.csv",
        ["branch_id", *CASH_COLUMNS, "withdrawals_k"],
        ["string", *("float" for _ in CASH_COLUMNS), "float"],
        rows,
    )


def train_cash_model(table: DataFile, out: Path) -> TrainedModel:
    """Ridge regression of withdrawals on their drivers; R² and MAE on a holdout."""
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_absolute_error, r2_score
    from sklearn.model_selection import train_test_split

    rows = _read_csv(table.path)
    x = np.array([[float(r[c]) for c in CASH_COLUMNS] for r in rows])
    y = np.array([float(r["withdrawals_k"]) for r in rows])
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SHARE, random_state=SEED
    )
    model = Ridge(alpha=1.0).fit(x_train, y_train)
    predicted = model.predict(x_test)
    metrics = {
        "r2": round(float(r2_score(y_test, predicted)), 4),
        "mae": round(float(mean_absolute_error(y_test, predicted)), 4),
    }
    parameters: dict[str, Any] = {
        "algorithm": "ridge",
        "alpha": 1.0,
        "test_share": TEST_SHARE,
        "seed": SEED,
        "features": list(CASH_COLUMNS),
    }
    return TrainedModel(
        path=_save(model, out), digest=artifact_digest(out), parameters=parameters, metrics=metrics
    )


# -- provenance ---------------------------------------------------------------------------


def environment_fingerprint() -> str:
    """``sha256:`` of the sorted ``name==version`` list of the installed distributions."""
    names = set()
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            names.add(f"{name.lower()}=={dist.version}")
    return "sha256:" + hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()


def code_commit() -> str:
    """The git object id of the training code (this module), as ``git hash-object`` prints."""
    source = Path(__file__).read_bytes()
    blob = b"blob %d\0" % len(source) + source
    return hashlib.sha1(blob, usedforsecurity=False).hexdigest()


# -- files --------------------------------------------------------------------------------


def _write_csv(path: Path, header: list[str], types: list[str], rows: list[list[Any]]) -> DataFile:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    schema = [{"name": n, "type": t} for n, t in zip(header, types, strict=True)]
    return DataFile(path=path, digest=artifact_digest(path), rows=len(rows), schema=schema)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _save(model: Any, path: Path) -> Path:
    """Pickle the fitted model (scikit-learn's own format; load only files you trust)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(model, protocol=5))
    return path
