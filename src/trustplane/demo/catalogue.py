"""The data catalogue of the story: datasets written to files and registered, and features.

The data steward registers and approves each dataset version (its digest is the SHA-256 of
the file the demo wrote); the feature engineer defines the features computed from them and
deprecates one that must no longer be used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trustplane.client import TrustplaneClient
from trustplane.demo import data
from trustplane.demo.cast import FEATURES, STEWARD, Crew
from trustplane.demo.report import Reporter

NAMESPACE = "s3://acme-lake"
REGION = "uk-south"
LABEL = "2026-10"


@dataclass(frozen=True, slots=True)
class Registered:
    """A dataset version as the registry knows it, and the file behind it."""

    name: str
    version_id: str
    file: data.DataFile

    @property
    def node(self) -> str:
        """The dataset's lineage node (every version of it)."""
        return f"dataset:{NAMESPACE}:{self.name}"


@dataclass(frozen=True, slots=True)
class Catalogue:
    applications: Registered
    signals: Registered
    cash: Registered
    features: dict[str, str]  # feature name -> the version id the credit model uses
    deprecated: str  # the deprecated feature's name


def build(crew: Crew, folder: Path, report: Reporter) -> Catalogue:
    report.step(f"Data catalogue: {STEWARD} (data steward) registers and approves datasets")
    apps_file, signals_file = data.write_credit_tables(folder)
    cash_file = data.write_cash_table(folder)
    steward = crew[STEWARD]
    applications = _register(
        steward,
        "credit-applications",
        apps_file,
        "restricted-personal",
        "Retail credit applications with outcomes (synthetic, seeded)",
        report,
    )
    signals = _register(
        steward,
        "open-banking-signals",
        signals_file,
        "confidential",
        "Open-banking account signals per application, from a third-party provider",
        report,
    )
    cash = _register(
        steward,
        "atm-withdrawals",
        cash_file,
        "internal",
        "Daily ATM withdrawals per branch and their drivers (no personal data)",
        report,
    )
    features, deprecated = _features(crew, applications, signals, report)
    return Catalogue(applications, signals, cash, features, deprecated)


def _register(
    steward: TrustplaneClient,
    name: str,
    file: data.DataFile,
    sensitivity: str,
    description: str,
    report: Reporter,
) -> Registered:
    dataset = steward.register_dataset(
        name, namespace=NAMESPACE, description=description, owner="data-office"
    )
    version = steward.create_dataset_version(
        dataset.id,
        version=LABEL,
        uri=f"{NAMESPACE}/{name}/{LABEL}",
        digest=file.digest,
        schema=file.schema,
        row_count=file.rows,
        sensitivity=sensitivity,
        region=REGION,
    )
    steward.decide_dataset_version(
        version.id, "approved", "lawful basis recorded, quality checks passed"
    )
    report.line(
        f"{name}@{LABEL} ({sensitivity}, {REGION}, {file.rows} rows) {version.id}, approved;"
        f" digest {file.digest[:19]}... of {file.path.name}"
    )
    return Registered(name, version.id, file)


def _features(
    crew: Crew, applications: Registered, signals: Registered, report: Reporter
) -> tuple[dict[str, str], str]:
    report.step(f"Features: {FEATURES} (feature engineer) defines them, deprecates one")
    engineer = crew[FEATURES]
    used: dict[str, str] = {}
    for name, definition, source, column in (
        (
            "debt_to_income",
            "monthly debt payments / monthly income",
            applications,
            "debt_to_income",
        ),
        ("salary_regularity", "std of salary credit dates, 6 months", signals, "salary_regularity"),
    ):
        engineer.define_feature(name, description=definition, owner="credit-risk")
        fv = engineer.create_feature_version(
            name,
            version="1",
            definition=definition,
            source_columns=[column],
            source_dataset_versions=[source.version_id],
        )
        used[name] = fv.id
        report.line(f"{name} v1 ({fv.id}) from {source.name}")
    deprecated = "postcode_risk"
    engineer.define_feature(
        deprecated, description="default rate of the applicant's postcode", owner="credit-risk"
    )
    engineer.create_feature_version(
        deprecated,
        version="1",
        definition="defaults / applications per postcode sector, 24 months",
    )
    engineer.deprecate_feature(deprecated, "a proxy for protected characteristics")
    report.line(f"{deprecated} v1 deprecated: a proxy for protected characteristics (unused)")
    return used, deprecated
