"""Client commands for datasets, features and training runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from trustplane.cli.context import (
    all_option,
    collect,
    connect,
    cursor_option,
    emit,
    emit_page,
    json_option,
    limit_option,
    when,
)
from trustplane.cli.output import EXIT_USAGE, console, fail, table
from trustplane.client import NotFound, TrustplaneClient
from trustplane.client.artifacts import ArtifactError, artifact_digest
from trustplane.client.registry_models import (
    DatasetRead,
    DatasetVersionRead,
    FeatureRead,
    FeatureVersionRead,
    RunRead,
)

dataset_app = typer.Typer(help="Datasets and their versions.", no_args_is_help=True)
feature_app = typer.Typer(help="Features and their versions.", no_args_is_help=True)
run_app = typer.Typer(help="Training runs.", no_args_is_help=True)

DEFAULT_NAMESPACE = "trustplane"


def pairs(values: list[str] | None, what: str, *, numbers: bool = False) -> dict[str, Any]:
    """``key=value`` options as a dict (values as numbers when ``numbers``); exit 2 if bad."""
    out: dict[str, Any] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"{what} '{item}' is not of the form key=value")
        if numbers:
            try:
                out[key] = float(value)
            except ValueError:
                fail(f"{what} '{key}' must be a number, got '{value}'")
        else:
            out[key] = value
    return out


def digest_of(path: Path) -> str:
    try:
        return artifact_digest(path)
    except (ArtifactError, OSError) as exc:
        fail(str(exc))


def _dataset(tp: TrustplaneClient, ref: str, namespace: str) -> DatasetRead:
    if ref.startswith("ds_"):
        return tp.get_dataset(ref)
    found = tp.find_dataset(namespace, ref)
    if found is None:
        fail(f"dataset '{namespace}:{ref}' not found")
    return found


# -- datasets -------------------------------------------------------------------------------


@dataset_app.command("register")
def dataset_register(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Dataset name, unique in its namespace."),
    namespace: str = typer.Option(DEFAULT_NAMESPACE, "--namespace", help="E.g. s3://lake."),
    description: str | None = typer.Option(None, "--description"),
    owner: str | None = typer.Option(None, "--owner"),
    as_json: bool = json_option(),
) -> None:
    """Register a dataset."""
    with connect(ctx) as tp:
        ds = tp.register_dataset(name, namespace=namespace, description=description, owner=owner)
    emit(
        ds, as_json, lambda: console.print(f"registered dataset {ds.namespace}:{ds.name} ({ds.id})")
    )


@dataset_app.command("version")
def dataset_version(
    ctx: typer.Context,
    dataset: str = typer.Argument(..., help="Dataset id or name."),
    version: str = typer.Option(..., "--version", help="Version label, unique per dataset."),
    uri: str = typer.Option(..., "--uri", help="Where the data lives."),
    digest: str | None = typer.Option(None, "--digest", help="sha256:<hex> of the content."),
    file: Path | None = typer.Option(None, "--file", help="Compute the digest of this path."),
    schema: str | None = typer.Option(None, "--schema", help="Columns: 'id:int,income:float'."),
    rows: int | None = typer.Option(None, "--rows", min=0),
    sensitivity: str | None = typer.Option(None, "--sensitivity"),
    region: str | None = typer.Option(None, "--region"),
    namespace: str = typer.Option(DEFAULT_NAMESPACE, "--namespace"),
    as_json: bool = json_option(),
) -> None:
    """Register a version of a dataset with its content digest (given or computed)."""
    if (digest is None) == (file is None):
        fail("give exactly one of --digest or --file")
    content = digest if digest is not None else digest_of(file or Path())
    columns = _columns(schema)
    with connect(ctx) as tp:
        ds = _dataset(tp, dataset, namespace)
        dv = tp.create_dataset_version(
            ds.id,
            version=version,
            uri=uri,
            digest=content,
            schema=columns,
            row_count=rows,
            sensitivity=sensitivity,
            region=region,
        )
    emit(dv, as_json, lambda: console.print(f"{ds.name}@{dv.version}: {dv.id} {dv.digest}"))


def _columns(schema: str | None) -> list[dict[str, str]]:
    columns = []
    for part in (schema or "").split(","):
        if not part.strip():
            continue
        name, sep, kind = part.partition(":")
        if not sep or not name.strip() or not kind.strip():
            fail(f"schema column '{part}' is not of the form name:type")
        columns.append({"name": name.strip(), "type": kind.strip()})
    return columns


@dataset_app.command("approve")
def dataset_approve(
    ctx: typer.Context,
    version_id: str = typer.Argument(..., help="Dataset version id (dv_...)."),
    reason: str = typer.Option(..., "--reason"),
    reject: bool = typer.Option(False, "--reject", help="Reject instead of approving."),
    as_json: bool = json_option(),
) -> None:
    """Approve (or reject) a pending dataset version."""
    with connect(ctx) as tp:
        dv = tp.decide_dataset_version(version_id, "rejected" if reject else "approved", reason)
    emit(dv, as_json, lambda: console.print(f"{dv.id}: {dv.approval_status}"))


@dataset_app.command("flag")
def dataset_flag(
    ctx: typer.Context,
    version_id: str = typer.Argument(..., help="Dataset version id (dv_...)."),
    reason: str = typer.Option(..., "--reason"),
    as_json: bool = json_option(),
) -> None:
    """Flag a dataset version for removal (lineage impact finds what used it)."""
    with connect(ctx) as tp:
        dv = tp.flag_dataset_version(version_id, reason)
    emit(dv, as_json, lambda: console.print(f"{dv.id}: flagged for removal ({dv.flag_reason})"))


@dataset_app.command("list")
def dataset_list(
    ctx: typer.Context,
    dataset: str | None = typer.Argument(None, help="List this dataset's versions instead."),
    namespace: str | None = typer.Option(None, "--namespace"),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """List datasets (registered here or reported by OpenLineage), or one dataset's versions."""
    with connect(ctx) as tp:
        if dataset is None:
            page = collect(
                tp.list_datasets, cursor=cursor, limit=limit, follow=follow, namespace=namespace
            )
            emit_page(*page, as_json, _show_datasets)
            return
        ds = _dataset(tp, dataset, namespace or DEFAULT_NAMESPACE)
        page = collect(
            tp.list_dataset_versions, cursor=cursor, limit=limit, follow=follow, dataset_id=ds.id
        )
    emit_page(*page, as_json, _show_versions)


def _show_datasets(items: list[DatasetRead]) -> None:
    rows = [(d.namespace, d.name, d.owner, d.id, when(d.created_at)) for d in items]
    table("Datasets", ["namespace", "name", "owner", "id", "created"], rows)


def _show_versions(items: list[DatasetVersionRead]) -> None:
    rows = [
        (
            v.version,
            v.digest,
            v.sensitivity,
            v.approval_status,
            "flagged" if v.flagged_for_removal else "",
            v.id,
        )
        for v in items
    ]
    table("Dataset versions", ["version", "digest", "sensitivity", "approval", "", "id"], rows)


# -- features -------------------------------------------------------------------------------


@feature_app.command("define")
def feature_define(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Feature name (created on first use)."),
    version: str = typer.Option(..., "--version"),
    definition: str = typer.Option(..., "--definition", help="Expression or SQL."),
    source: list[str] | None = typer.Option(None, "--source", help="Source dv_ id (repeat)."),
    column: list[str] | None = typer.Option(None, "--column", help="Source column (repeat)."),
    owner: str | None = typer.Option(None, "--owner"),
    description: str | None = typer.Option(None, "--description"),
    as_json: bool = json_option(),
) -> None:
    """Define a feature version from its source dataset versions."""
    with connect(ctx) as tp:
        try:
            tp.get_feature(name)
        except NotFound:
            tp.define_feature(name, description=description, owner=owner)
        fv = tp.create_feature_version(
            name,
            version=version,
            definition=definition,
            source_columns=column or [],
            source_dataset_versions=source or [],
            owner=owner,
        )
    emit(fv, as_json, lambda: console.print(f"defined {name}@{fv.version} ({fv.id})"))


@feature_app.command("deprecate")
def feature_deprecate(
    ctx: typer.Context,
    feature: str = typer.Argument(..., help="Feature name or id."),
    reason: str = typer.Option(..., "--reason"),
    version_id: str | None = typer.Option(None, "--version-id", help="Only this fv_ version."),
    as_json: bool = json_option(),
) -> None:
    """Deprecate a feature (every version) or one version of it."""
    with connect(ctx) as tp:
        if version_id is not None:
            done = [tp.deprecate_feature_version(version_id, reason)]
        else:
            done = tp.deprecate_feature(feature, reason)
    emit(done, as_json, lambda: console.print(f"deprecated {len(done)} version(s) of {feature}"))


@feature_app.command("list")
def feature_list(
    ctx: typer.Context,
    feature: str | None = typer.Argument(None, help="List this feature's versions instead."),
    cursor: str | None = cursor_option(),
    limit: int | None = limit_option(),
    follow: bool = all_option(),
    as_json: bool = json_option(),
) -> None:
    """List features, or one feature's versions."""
    with connect(ctx) as tp:
        if feature is None:
            page = collect(tp.list_features, cursor=cursor, limit=limit, follow=follow)
            emit_page(*page, as_json, _show_features)
            return
        page = collect(
            tp.list_feature_versions, cursor=cursor, limit=limit, follow=follow, feature=feature
        )
    emit_page(*page, as_json, _show_feature_versions)


def _show_features(items: list[FeatureRead]) -> None:
    table("Features", ["name", "owner", "id"], [(f.name, f.owner, f.id) for f in items])


def _show_feature_versions(items: list[FeatureVersionRead]) -> None:
    rows = [
        (
            v.version,
            v.definition,
            v.review_status,
            f"deprecated: {v.deprecation_reason}" if v.deprecated else "",
            v.id,
        )
        for v in items
    ]
    table("Feature versions", ["version", "definition", "review", "status", "id"], rows)


# -- runs -----------------------------------------------------------------------------------


@run_app.command("record")
def run_record(
    ctx: typer.Context,
    file: Path | None = typer.Option(None, "--file", help="JSON body of POST /runs."),
    job_namespace: str | None = typer.Option(None, "--job-namespace"),
    job_name: str | None = typer.Option(None, "--job-name"),
    external_id: str | None = typer.Option(None, "--external-id"),
    repo: str | None = typer.Option(None, "--repo", help="Code repository URL."),
    commit: str | None = typer.Option(None, "--commit", help="Commit SHA."),
    env_fingerprint: str | None = typer.Option(None, "--env-fingerprint"),
    lockfile: Path | None = typer.Option(None, "--lockfile", help="Fingerprint = its digest."),
    param: list[str] | None = typer.Option(None, "--param", help="key=value (repeat)."),
    metric: list[str] | None = typer.Option(None, "--metric", help="key=number (repeat)."),
    inputs: list[str] | None = typer.Option(None, "--input", help="dv_ or fv_ id (repeat)."),
    outputs: list[str] | None = typer.Option(None, "--output", help="dv_ id (repeat)."),
    artifact: list[str] | None = typer.Option(None, "--artifact", help="name=PATH (repeat)."),
    status: str | None = typer.Option(None, "--status"),
    as_json: bool = json_option(),
) -> None:
    """Record a training run from a JSON file, flags, or both (flags win)."""
    body = _run_file(file)
    flags: dict[str, Any] = {
        "job_namespace": job_namespace,
        "job_name": job_name,
        "external_run_id": external_id,
        "code_repo": repo,
        "commit_sha": commit,
        "env_fingerprint": digest_of(lockfile) if lockfile else env_fingerprint,
        "status": status,
    }
    body.update({k: v for k, v in flags.items() if v is not None})
    body.update({"parameters": pairs(param, "parameter")} if param else {})
    body.update({"metrics": pairs(metric, "metric", numbers=True)} if metric else {})
    body.update({"inputs": inputs} if inputs else {})
    body.update({"outputs": outputs} if outputs else {})
    if artifact:
        named = pairs(artifact, "artifact")
        body["artifacts"] = [{"name": n, "digest": digest_of(Path(p))} for n, p in named.items()]
    with connect(ctx) as tp:
        run = tp.record_run(body)
    emit(run, as_json, lambda: _show_run(run))


def _run_file(file: Path | None) -> dict[str, Any]:
    if file is None:
        return {}
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"cannot read run file '{file}': {exc}", EXIT_USAGE)
    if not isinstance(data, dict):
        fail(f"run file '{file}' must hold a JSON object")
    return data


def _show_run(run: RunRead) -> None:
    console.print(f"recorded run {run.id} ({run.status})", highlight=False)
    rows = [(i, "input") for i in run.inputs] + [(o, "output") for o in run.outputs]
    if rows:
        table("Links", ["node", "relation"], rows)
