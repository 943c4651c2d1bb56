"""Policy decision latency: the compiled Rego bundle next to its alternatives and the HTTP API.

One run prints p50, p99 and mean milliseconds per decision, side by side, and for the
in-process paths the mean CPU time this process spent per decision (on a busy machine, wall
time above CPU time is time spent waiting for a core):

1. **In process, compiled bundle**: ``Engine().evaluate(bundle.default(), fixture(20))``, as a
   request runs it (the engine hands each query to a small thread pool to enforce its
   timeout); beside it the raw regopy query on the same compiled bundle in the calling thread
   (``set_input`` and the query that binds both rules, as the engine runs it) and a no-op
   through a pool of the same shape, which together show what the hop costs. They are
   measured interleaved, so a change in the machine's load hits all alike. Where the raw query
   spends its time follows: building the input, the query, each entrypoint alone (what asking
   for the two rules separately would cost), and a bundle whose two rules are constants (the
   binding and the input alone).
2. **In process, re-interpreting each time**: a fresh ``regopy.Interpreter`` per decision, the
   bundle's modules (tests left out, as the engine does) and data added, the same query: what
   compiling once saves.
3. **Plain Python**: ``policy_plain.decide``, the default bundle's rules as straight-line code,
   the lower bound. It must name the same violations as the engine, on the allowed fixture and
   on a variant that breaks several rules, or the run fails.
4. **Over HTTP, on a real server** (``trustplane serve --workers 1`` on a throw-away SQLite
   database, and PostgreSQL with ``--backends sqlite,postgresql``): a high-risk model version
   trained on ``--datasets`` approved dataset versions and a few reviewed feature versions,
   submitted, validated, approved and signed off a second time for ``prod``, all through the
   API, so the decision allows. One keep-alive client then times ``POST /api/v1/policy/gate``
   (the decision recorded, with its audit event) and ``POST /api/v1/policy/eval`` (read-only),
   one request after the other, after a warm-up. The server's own ``duration_ms`` (the engine
   alone) is shown beside each.

Targets are printed beside the figures: in process p99 <= 1 ms, HTTP gate p99 <= 20 ms on
SQLite; a missed target is reported, not an error. The exit status is 1 when a check fails
(a decision that does not allow, the two implementations disagreeing, an HTTP error).

    python bench/policy.py [--quick] [--json FILE] [--backends sqlite,postgresql]
                           [--datasets 20] [--pg-admin-url URL]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import psycopg
import regopy

import policy_plain
from report import load_average
from servers import (
    Backend,
    BenchError,
    Server,
    postgres_database,
    prepare,
    sqlite_backend,
    stop,
    trustplane_server,
)
from trustplane.policy import bundle as bundles
from trustplane.policy.engine import ALLOW, QUERY, VIOLATIONS, Engine, compile_bundle

API = "/api/v1"
TARGET_IN_PROCESS_P99_MS = 1.0
TARGET_GATE_P99_MS = 20.0
BACKENDS = ("sqlite", "postgresql")
FEATURES = ("income_ratio", "tenure_months", "utilisation", "arrears_12m", "age_band")
#: The same two entrypoints with nothing to evaluate: what regopy itself costs per decision.
CONSTANT_BUNDLE = (
    "package trustplane.decision\nimport rego.v1\n\nviolations := set()\n\nallow := true\n"
)


@dataclass(frozen=True)
class Plan:
    """How many decisions each path gets (``--quick`` keeps the run under a minute)."""

    engine: int
    parts: int
    reinterpret: int
    plain: int
    http: int
    http_warmup: int


FULL = Plan(engine=500, parts=100, reinterpret=30, plain=20_000, http=300, http_warmup=30)
QUICK = Plan(engine=50, parts=10, reinterpret=3, plain=2_000, http=50, http_warmup=5)


@dataclass
class Row:
    """One measured path: its latencies summarised in milliseconds."""

    path: str
    count: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    cpu_ms: float | None = None
    target: str = ""
    note: str = ""

    def line(self) -> str:
        cpu = f"{self.cpu_ms:>9.3f}" if self.cpu_ms is not None else f"{'':>9}"
        remarks = "; ".join(r for r in (self.target, self.note) if r)
        return (
            f"{self.path:<52} {self.count:>6} {self.p50_ms:>9.3f} {self.p99_ms:>9.3f}"
            f" {self.mean_ms:>9.3f} {cpu}  {remarks}"
        ).rstrip()


@dataclass
class Run:
    """Everything measured, and what went wrong."""

    rows: list[Row] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(row.line(), flush=True)
        return row


HEADER = (
    f"{'path':<52} {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'mean ms':>9} {'cpu ms':>9}  target / note"
)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    run = Run()
    started = time.perf_counter()
    print_header(args, plan)
    in_process(args, plan, run)
    with tempfile.TemporaryDirectory(prefix="trustplane-policy-bench-") as tmp:
        for backend in args.backends:
            over_http(args, plan, backend, Path(tmp), run)
    summary(run)
    elapsed = time.perf_counter() - started
    print(f"load average now: {load_average()}; {elapsed:.0f} s in all")
    for problem in run.problems:
        print("problem:", problem)
    if args.json is not None:
        write_json(args.json, args, plan, run, elapsed)
    print("RESULT:", "FAIL" if run.problems else "PASS (every check held)")
    return 1 if run.problems else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="fewer decisions per path: well under a minute")
    add("--json", type=Path, default=None, metavar="FILE", help="also write the figures here")
    add("--backends", default="sqlite", help="sqlite, postgresql or both, comma-separated")
    add("--datasets", type=int, default=20, help="dataset versions the model was trained on")
    add(
        "--pg-admin-url",
        default=os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    add("--pg-role", default="trustplane_bench")
    args = parser.parse_args(argv)
    chosen = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(chosen) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}: choose from {', '.join(BACKENDS)}")
    args.backends = [b for b in BACKENDS if b in chosen]
    if not 1 <= args.datasets <= 500:
        parser.error("--datasets must be between 1 and 500")
    return args


def print_header(args: argparse.Namespace, plan: Plan) -> None:
    print("Trustplane policy decision benchmark")
    print(f"  machine  : {os.cpu_count()} cores, {platform.machine()}, {platform.system()}")
    print(
        f"  software : Python {platform.python_version()}, trustplane {version('trustplane')},"
        f" regopy {version('regopy')}"
    )
    print(
        f"  plan     : {'--quick' if args.quick else 'full'}; in process {plan.engine} decisions"
        f" (re-interpreting {plan.reinterpret}, plain Python {plan.plain:,}); HTTP"
        f" {plan.http_warmup} warm-up + {plan.http} per route on {', '.join(args.backends)}"
    )
    print(f"  load avg : {load_average()} (other work on the machine skews every figure)")
    print()


# -- in process -------------------------------------------------------------------------------


def in_process(args: argparse.Namespace, plan: Plan, run: Run) -> None:
    bundle = bundles.default()
    facts = policy_plain.fixture(args.datasets)
    config = bundle.data.get("config", {})
    began = time.perf_counter()
    compiled = compile_bundle(bundle)
    compile_ms = (time.perf_counter() - began) * 1000
    run.figures["compile_ms"] = compile_ms
    modules = len(bundle.modules)
    tests = sum(1 for p in bundle.modules if p.endswith("_test.rego"))
    print(
        f"bundle: default, {bundle.digest[:19]}..., {modules} .rego files ({tests} of them tests);"
        f" compiled in {compile_ms:.0f} ms (once per digest)"
    )
    print(
        f"facts : fixture({args.datasets}): {len(facts['lineage']['datasets'])} datasets,"
        f" {len(facts['lineage']['features'])} features, {len(facts['approvals'])} sign-offs,"
        f" {len(json.dumps(facts)):,} bytes of JSON"
    )
    check_parity(bundle, facts, config, run)
    print()
    print(HEADER)
    print("-" * len(HEADER))
    compiled_paths(bundle, compiled, facts, plan, run)
    reinterpreted(bundle, facts, plan, run)
    plain(facts, config, plan, run)


def check_parity(
    bundle: bundles.Bundle, facts: dict[str, Any], config: dict[str, Any], run: Run
) -> None:
    """The engine allows the fixture; the plain rules name the same violations, there and on
    a variant that breaks several rules (so an empty list is not the only thing compared)."""
    engine = Engine()
    allowed = engine.evaluate(bundle, facts)
    if not allowed.allowed:
        ids = [v.id for v in allowed.violations]
        run.problems.append(f"the engine denies the fixture it should allow: {ids}")
    for name, document in (("fixture", facts), ("broken variant", broken(facts))):
        outcome = engine.evaluate(bundle, document)
        if outcome.engine_error is not None:
            run.problems.append(f"engine error on the {name}: {outcome.engine_error}")
        by_engine = sorted(v.id for v in outcome.violations)
        by_plain = sorted(v["id"] for v in policy_plain.decide(document, config))
        if by_engine != by_plain:
            run.problems.append(
                f"policy_plain.decide disagrees with the engine on the {name}:"
                f" engine {by_engine}, plain {by_plain}"
            )
        else:
            print(
                f"parity: engine and plain Python name the same {len(by_engine)} violation(s)"
                f" on the {name}"
            )


def broken(facts: dict[str, Any]) -> dict[str, Any]:
    """The fixture with a flagged dataset, a deprecated feature, a low AUC, one sign-off."""
    document: dict[str, Any] = json.loads(json.dumps(facts))
    dataset = document["lineage"]["datasets"][-1]
    dataset["flagged_for_removal"] = True
    dataset["flag_reason"] = "consent withdrawn"
    feature = document["lineage"]["features"][0]
    feature["deprecated"] = True
    feature["deprecation_reason"] = "replaced"
    document["version"]["metrics"]["auc"] = 0.6
    document["run"]["metrics"]["auc"] = 0.6
    document["approvals"] = document["approvals"][:1]
    return document


def compiled_paths(
    bundle: bundles.Bundle, compiled: Any, facts: dict[str, Any], plan: Plan, run: Run
) -> None:
    engine = Engine()
    engine.evaluate(bundle, facts)  # compiles into the engine's cache, untimed
    interpreter = regopy.Interpreter()
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hop")

    def evaluate() -> None:
        engine.evaluate(bundle, facts)

    def raw() -> None:
        interpreter.set_input(regopy.Input(facts))
        str(interpreter.query_bundle(compiled))

    def hop() -> None:
        pool.submit(_nothing).result(timeout=engine.timeout_seconds)

    expect_allow("the raw query", str(_raw_answer(interpreter, compiled, facts)), run)
    timings = interleaved([evaluate, raw, hop], plan.engine, warmup=max(3, plan.engine // 20))
    pool.shutdown()
    target = _target(TARGET_IN_PROCESS_P99_MS, timings[0])
    run.add(summarise("in process: Engine.evaluate (compiled bundle)", timings[0], target))
    run.add(summarise("in process: raw regopy query, same thread", timings[1], target))
    run.add(summarise("  a no-op through a 4-thread pool (the hop alone)", timings[2]))
    gap = statistics.median(timings[0].wall) - statistics.median(timings[1].wall)
    cpu_gap = statistics.fmean(timings[0].cpu) - statistics.fmean(timings[1].cpu)
    run.figures["evaluate_minus_raw_p50_ms"] = gap * 1000
    run.figures["evaluate_minus_raw_cpu_ms"] = cpu_gap * 1000
    why = (
        "the hop, reading the result, waivers"
        if gap > 0
        else "below zero: the same query ran faster in the engine's pool thread"
    )
    print(
        f"  Engine.evaluate minus the raw query: p50 {gap * 1000:+.3f} ms,"
        f" CPU {cpu_gap * 1000:+.3f} ms ({why})"
    )
    where_the_time_goes(compiled, facts, plan, run)


def _raw_answer(interpreter: Any, compiled: Any, facts: dict[str, Any]) -> Any:
    interpreter.set_input(regopy.Input(facts))
    return interpreter.query_bundle(compiled)


def expect_allow(what: str, text: str, run: Run) -> None:
    """The query's bindings must say allow, with no violation."""
    try:
        bindings = json.loads(text).get("bindings") or {}
    except json.JSONDecodeError:
        bindings = {}
    if bindings.get("allow") is not True or bindings.get("violations") != []:
        run.problems.append(f"{what} did not allow: {text[:300]}")


def where_the_time_goes(compiled: Any, facts: dict[str, Any], plan: Plan, run: Run) -> None:
    """The raw query in parts; each entrypoint alone (what two queries instead of one would
    cost); and a bundle whose two rules are constants (the binding and the input alone)."""
    interpreter = regopy.Interpreter()
    interpreter.set_input(regopy.Input(facts))
    constant_compiled = compile_bundle(bundles.from_files({"decision.rego": CONSTANT_BUNDLE}))
    constant_interpreter = regopy.Interpreter()

    def build_input() -> None:
        regopy.Input(facts)

    def query_only() -> None:
        str(interpreter.query_bundle(compiled))

    def allow_only() -> None:
        str(interpreter.query_bundle_entrypoint(compiled, ALLOW))

    def violations_only() -> None:
        str(interpreter.query_bundle_entrypoint(compiled, VIOLATIONS))

    def constant_raw() -> None:
        constant_interpreter.set_input(regopy.Input(facts))
        str(constant_interpreter.query_bundle(constant_compiled))

    steps = [build_input, query_only, allow_only, violations_only, constant_raw]
    parts = interleaved(steps, plan.parts, warmup=2)
    run.add(summarise("  regopy.Input(facts): the facts as Rego terms", parts[0]))
    run.add(summarise("  the query alone (input already set)", parts[1]))
    run.add(summarise("  'allow' entrypoint alone (input already set)", parts[2]))
    run.add(summarise("  'violations' entrypoint alone (input already set)", parts[3]))
    run.add(summarise("  raw query, two constant rules (input included)", parts[4]))


def _nothing() -> None:
    return None


def reinterpreted(bundle: bundles.Bundle, facts: dict[str, Any], plan: Plan, run: Run) -> None:
    """A new interpreter per decision: the same modules (tests left out), data and query."""
    data = json.dumps(bundle.data)
    modules = {p: s for p, s in bundle.modules.items() if not p.endswith("_test.rego")}

    def once() -> str:
        interpreter = regopy.Interpreter()
        interpreter.add_data_json(data)
        for path, source in modules.items():
            interpreter.add_module(path, source)
        interpreter.set_input(regopy.Input(facts))
        return str(interpreter.query(QUERY))

    expect_allow("re-interpreting", once(), run)
    timings = interleaved([once], plan.reinterpret, warmup=1)
    run.add(summarise("in process: re-interpret each time (new Interpreter)", timings[0]))


def plain(facts: dict[str, Any], config: dict[str, Any], plan: Plan, run: Run) -> None:
    def decide() -> None:
        policy_plain.decide(facts, config)

    timings = interleaved([decide], plan.plain, warmup=plan.plain // 20)
    run.add(summarise("plain Python: policy_plain.decide", timings[0], note="the lower bound"))


# -- over HTTP --------------------------------------------------------------------------------


@dataclass
class Release:
    """A version the default policy allows, and who asks the gate."""

    model: str
    version_id: str
    gate_token: str
    datasets: int
    features: int


def over_http(args: argparse.Namespace, plan: Plan, backend: str, root: Path, run: Run) -> None:
    home = root / backend
    home.mkdir()
    print()
    try:
        if backend == "sqlite":
            serve(sqlite_backend(home), args, plan, run)
            return
        try:
            with postgres_database(args.pg_admin_url, args.pg_role) as url:
                serve(prepare("postgresql", home, url), args, plan, run)
        except psycopg.OperationalError as exc:
            reason = (str(exc).strip() or repr(exc)).splitlines()[0]
            print(f"NOTICE: PostgreSQL skipped (not reachable or not usable): {reason}")
    except (BenchError, httpx.HTTPError) as exc:
        run.problems.append(f"{backend}: {exc}")
        print(f"ERROR ({backend}): {exc}")


def serve(backend: Backend, args: argparse.Namespace, plan: Plan, run: Run) -> None:
    server = trustplane_server(backend, workers=1)
    try:
        began = time.perf_counter()
        release = set_up(server, backend.token, args.datasets)
        print(
            f"trustplane serve --workers 1 on {backend.name}: {server.url}; set up over the API in"
            f" {time.perf_counter() - began:.1f} s ({release.datasets} dataset versions,"
            f" {release.features} feature versions, 2 release sign-offs)"
        )
        print(HEADER)
        print("-" * len(HEADER))
        measure_routes(server, backend.name, release, plan, run)
    finally:
        code = stop(server)
        if code not in (0, None):
            run.problems.append(f"{backend.name}: the server exited with {code}")


def set_up(server: Server, admin_token: str, datasets: int) -> Release:
    """Members and roles, then a high-risk version taken to an allowed promotion, via the API."""
    with httpx.Client(base_url=server.url + API, headers=_bearer(admin_token), timeout=60) as admin:
        member = _members(admin)
        member["ci"] = _principal(admin, "service-accounts", "bench-ci", ("deployer",))
    steward, engineer, trainer, validator, first, second = (
        _client(server, member[n])
        for n in ("steward", "engineer", "trainer", "validator", "approver", "second")
    )
    try:
        dataset_ids = [_dataset_version(steward, i) for i in range(datasets)]
        feature_ids = [
            _feature_version(engineer, validator, name, dataset_ids[i % len(dataset_ids)])
            for i, name in enumerate(FEATURES)
        ]
        model, version_id, etag = _version(trainer, dataset_ids + feature_ids)
        for client, action in ((trainer, "submit"), (validator, "validate"), (first, "approve")):
            etag = _transition(client, version_id, action, etag)
        body = {"environment": "prod", "comment": "reviewed the evidence"}
        signed = _ok(second.post(f"/model-versions/{version_id}/approvals", json=body))
        if signed["decision"]["allowed"] is not True:
            raise BenchError(f"the second sign-off did not allow: {_ids(signed['decision'])}")
    finally:
        for client in (steward, engineer, trainer, validator, first, second):
            client.close()
    with _client(server, member["ci"]) as ci:
        query = {"model": model, "version": 1, "target": "prod"}
        checked = _ok(ci.post("/policy/eval", json=query))
        if checked["allowed"] is not True:
            raise BenchError(f"the policy does not allow the release: {_ids(checked)}")
    return Release(model, version_id, member["ci"], datasets, len(feature_ids))


def _members(admin: httpx.Client) -> dict[str, str]:
    roles = {
        "steward": ("data-steward",),
        "engineer": ("feature-engineer",),
        "trainer": ("trainer",),
        "validator": ("validator",),
        "approver": ("release-approver",),
        "second": ("release-approver",),
    }
    return {
        name: _principal(admin, "users", f"bench-{name}", granted)
        for name, granted in roles.items()
    }


def _principal(admin: httpx.Client, kind: str, name: str, roles: tuple[str, ...]) -> str:
    """A principal holding ``roles``; its token."""
    created = _ok(admin.post(f"/principals/{kind}", json={"name": name}))
    for role in roles:
        body = {"principal_id": created["id"], "role": role, "reason": "policy benchmark"}
        _ok(admin.post("/bindings", json=body))
    issued = _ok(admin.post("/tokens", json={"name": "bench", "principal_id": created["id"]}))
    return str(issued["token"])


def _dataset_version(steward: httpx.Client, i: int) -> str:
    name = "loans" if i == 0 else f"bureau-extract-{i}"
    ds = _ok(steward.post("/datasets", json={"name": name, "namespace": "s3://lake"}))
    body = {
        "version": f"2026-{(i % 12) + 1:02d}",
        "uri": f"s3://lake/{name}/2026",
        "digest": _digest(f"{name}-{i}"),
        "sensitivity": ("internal", "confidential")[i % 2],
        "region": "uk",
    }
    dv = _ok(steward.post(f"/datasets/{ds['id']}/versions", json=body))
    decision = {"decision": "approved", "reason": "reviewed for training"}
    _ok(steward.post(f"/dataset-versions/{dv['id']}/approval", json=decision))
    return str(dv["id"])


def _feature_version(
    engineer: httpx.Client, validator: httpx.Client, name: str, source: str
) -> str:
    feature = _ok(engineer.post("/features", json={"name": name, "owner": "risk-analytics"}))
    body = {
        "version": "1",
        "definition": f"{name} over the bureau extract",
        "source_dataset_versions": [source],
    }
    fv = _ok(engineer.post(f"/features/{feature['id']}/versions", json=body))
    review = {"decision": "approved", "reason": "definition reviewed"}
    _ok(validator.post(f"/feature-versions/{fv['id']}/review", json=review))
    return str(fv["id"])


def _version(trainer: httpx.Client, inputs: list[str]) -> tuple[str, str, str]:
    """The run that read ``inputs``, a high-risk model, and its first version (a draft)."""
    run_body = {
        "code_repo": "https://git.example.com/risk/credit-scoring",
        "commit_sha": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
        "env_fingerprint": _digest("uv.lock"),
        "parameters": {"learning_rate": 0.05, "num_leaves": 63},
        "metrics": {"auc": 0.81},
        "inputs": inputs,
    }
    run_id = _ok(trainer.post("/runs", json=run_body))["id"]
    model_body = {
        "name": "credit-scoring",
        "owner": "risk-analytics",
        "intended_use": "Retail credit decisions for existing customers.",
        "out_of_scope_uses": ["employment screening"],
        "risk_tier": "high",
        "business_unit": "retail",
        "regulatory_tags": ["consumer-duty"],
    }
    model = _ok(trainer.post("/models", json=model_body))
    evaluations: list[dict[str, Any]] = [
        {"name": "auc-holdout", "passed": True, "value": 0.81, "threshold": 0.75, "metric": "auc"}
    ]
    for group, tpr in (("female", 0.74), ("male", 0.77), ("other", 0.72)):
        evaluations.append(
            {"name": f"tpr-{group}", "passed": True, "value": tpr, "metric": "tpr", "group": group}
        )
    version_body = {
        "artifact_digest": _digest("credit-scoring model 1"),
        "run_id": run_id,
        "metrics": {"auc": 0.81, "ks": 0.42},
        "evaluations": evaluations,
        "tags": {"framework": "lightgbm"},
    }
    created = _ok(trainer.post(f"/models/{model['id']}/versions", json=version_body))
    return str(model["name"]), str(created["id"]), str(created["etag"])


def _transition(client: httpx.Client, version_id: str, action: str, etag: str) -> str:
    response = client.post(
        f"/model-versions/{version_id}/{action}",
        json={"intent": f"policy benchmark: {action}"},
        headers={"If-Match": etag},
    )
    return str(_ok(response)["etag"])


def measure_routes(server: Server, backend: str, release: Release, plan: Plan, run: Run) -> None:
    query = {"model": release.model, "version": 1, "target": "prod"}
    with _client(server, release.gate_token) as ci:
        for route, recorded in (("gate", True), ("eval", False)):
            path = f"/policy/{route}"
            engine_ms: list[float] = []
            for _ in range(plan.http_warmup):
                _decision(ci, path, query, recorded)
            timings = Timings()
            for _ in range(plan.http):
                began = time.perf_counter()
                response = ci.post(path, json=query)
                timings.wall.append(time.perf_counter() - began)
                engine_ms.append(float(_decision_of(response, recorded)["duration_ms"]))
            inside = statistics.median(engine_ms)
            run.figures[f"http_{backend}_{route}_engine_p50_ms"] = inside
            label = (
                f"HTTP {backend}: POST /policy/gate (recorded)"
                if recorded
                else f"HTTP {backend}: POST /policy/eval (read-only)"
            )
            target = (
                _target(TARGET_GATE_P99_MS, timings) if recorded and backend == "sqlite" else ""
            )
            run.add(summarise(label, timings, target, note=f"engine in server p50 {inside:.1f} ms"))
        last = _decision(ci, "/policy/gate", query, recorded=True)
        stored = _ok(ci.get(f"/decisions/{last['id']}"))
    lineage = stored["input"]["lineage"]
    if len(lineage["datasets"]) != release.datasets or len(lineage["features"]) != release.features:
        run.problems.append(
            f"{backend}: the recorded decision's input holds {len(lineage['datasets'])} datasets"
            f" and {len(lineage['features'])} features, not {release.datasets} and"
            f" {release.features}"
        )


def _decision(client: httpx.Client, path: str, query: dict[str, Any], recorded: bool) -> Any:
    return _decision_of(client.post(path, json=query), recorded)


def _decision_of(response: httpx.Response, recorded: bool) -> Any:
    """The decision, after checking it allowed and was (or was not) recorded."""
    decision = _ok(response)
    if decision["allowed"] is not True:
        raise BenchError(f"{response.request.url.path} denied: {_ids(decision)}")
    if recorded and (decision["id"] is None or decision["event_id"] is None):
        raise BenchError("the gate answered without recording the decision and its event")
    if not recorded and decision["id"] is not None:
        raise BenchError("eval recorded a decision")
    return decision


# -- figures ----------------------------------------------------------------------------------


@dataclass
class Timings:
    """Seconds per call: elapsed, and the CPU this process used (all its threads)."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def interleaved(steps: Sequence[Callable[[], object]], count: int, warmup: int) -> list[Timings]:
    """Each step timed ``count`` times, the steps taking turns so load changes hit all alike.

    The garbage collector runs between rounds, not inside a timed call. The CPU time tells
    work from waiting for a core on a busy machine.
    """
    for _ in range(warmup):
        for step in steps:
            step()
    timings = [Timings() for _ in steps]
    enabled = gc.isenabled()
    gc.disable()
    try:
        for n in range(count):
            for i, step in enumerate(steps):
                cpu = time.process_time()
                began = time.perf_counter()
                step()
                timings[i].wall.append(time.perf_counter() - began)
                timings[i].cpu.append(time.process_time() - cpu)
            if n % 50 == 49:
                gc.collect()
    finally:
        if enabled:
            gc.enable()
    return timings


def summarise(path: str, timings: Timings, target: str = "", note: str = "") -> Row:
    ordered = sorted(timings.wall)
    return Row(
        path=path,
        count=len(ordered),
        p50_ms=_rank(ordered, 0.50) * 1000,
        p99_ms=_rank(ordered, 0.99) * 1000,
        mean_ms=statistics.fmean(ordered) * 1000,
        cpu_ms=statistics.fmean(timings.cpu) * 1000 if timings.cpu else None,
        target=target,
        note=note,
    )


def _rank(ordered: list[float], q: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``q`` of them at or below."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _target(limit_ms: float, timings: Timings) -> str:
    p99 = _rank(sorted(timings.wall), 0.99) * 1000
    return f"p99 <= {limit_ms:g} ms: {'met' if p99 <= limit_ms else 'MISSED'}"


def summary(run: Run) -> None:
    """Ratios and targets, in one place at the end."""
    rows = {r.path: r for r in run.rows}
    engine = rows.get("in process: Engine.evaluate (compiled bundle)")
    raw = rows.get("in process: raw regopy query, same thread")
    plain_row = rows.get("plain Python: policy_plain.decide")
    again = rows.get("in process: re-interpret each time (new Interpreter)")
    print()
    print("ratios (p50 over p50):")

    def ratio(label: str, key: str | None, top: Row | None, bottom: Row | None) -> None:
        if top is None or bottom is None:
            return
        value = top.p50_ms / bottom.p50_ms
        if key is not None:
            run.figures[key] = value
        print(f"  {label:<44} {value:>9,.{0 if value >= 100 else 2}f}x")

    ratio("Engine.evaluate vs plain Python", "engine_vs_plain", engine, plain_row)
    ratio("raw regopy query vs plain Python", "raw_vs_plain", raw, plain_row)
    ratio("re-interpreting vs Engine.evaluate", "reinterpret_vs_engine", again, engine)
    for backend in BACKENDS:
        for route in ("gate", "eval"):
            http = next(
                (r for r in run.rows if r.path.startswith(f"HTTP {backend}: POST /policy/{route}")),
                None,
            )
            key = f"http_{backend}_{route}_vs_engine"
            ratio(f"HTTP {route} ({backend}) vs Engine.evaluate", key, http, engine)
    print("targets:")
    for row in run.rows:
        if row.target:
            print(f"  {row.path}: p99 {row.p99_ms:.2f} ms, {row.target}")


def write_json(path: Path, args: argparse.Namespace, plan: Plan, run: Run, seconds: float) -> None:
    document = {
        "benchmark": "policy",
        "finished_at": datetime.now(UTC).isoformat(),
        "cores": os.cpu_count(),
        "load_average": load_average(),
        "python": platform.python_version(),
        "regopy": version("regopy"),
        "quick": args.quick,
        "datasets": args.datasets,
        "backends": args.backends,
        "plan": asdict(plan),
        "seconds": round(seconds, 1),
        "rows": [asdict(r) for r in run.rows],
        "figures": run.figures,
        "problems": run.problems,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {path}")


# -- helpers ----------------------------------------------------------------------------------


def _client(server: Server, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.url + API, headers=_bearer(token), timeout=60)


def _ok(response: httpx.Response) -> Any:
    if not response.is_success:
        raise BenchError(
            f"{response.request.method} {response.request.url.path}: "
            f"HTTP {response.status_code} {response.text[:500]}"
        )
    return response.json()


def _ids(decision: dict[str, Any]) -> list[str]:
    return [str(v.get("id")) for v in decision.get("violations", [])]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


if __name__ == "__main__":
    sys.exit(main())
