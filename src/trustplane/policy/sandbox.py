"""Compile and test a bundle in a child process, so a crash of the native engine is a result.

rego-cpp is native code: some inputs abort or crash the process that runs it (for instance a
``with`` modifier over a builtin call, in the versions we measured), and its compiler writes
diagnostics straight to standard output. So every bundle Trustplane has not seen before is
compiled, smoke-queried and tested here, in ``python -m trustplane.policy.sandbox``: the
parent reads a JSON report, and a crash, a timeout or garbage becomes a failed report.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from trustplane.policy.bundle import Bundle, BundleError, from_files
from trustplane.policy.engine import ALLOW, VIOLATIONS, CompileError, compile_bundle, explain_error

DEFAULT_TIMEOUT_SECONDS = 60.0


@dataclass(slots=True)
class TestResult:
    name: str
    passed: bool
    error: str | None = None


@dataclass(slots=True)
class Report:
    """What the sandbox found: compile errors, entrypoints, every ``test_*`` rule's result."""

    digest: str
    compiled: bool
    error: str | None = None
    tests: list[TestResult] = field(default_factory=list)

    @property
    def failed(self) -> list[TestResult]:
        return [t for t in self.tests if not t.passed]

    @property
    def ok(self) -> bool:
        return self.compiled and self.error is None and not self.failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "compiled": self.compiled,
            "error": self.error,
            "passed": sum(1 for t in self.tests if t.passed),
            "failed": len(self.failed),
            "tests": [{"name": t.name, "passed": t.passed, "error": t.error} for t in self.tests],
        }


def check(bundle: Bundle, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Report:
    """Compile and test ``bundle`` in a child process; never raises for the bundle's faults."""
    payload = json.dumps({"files": dict(bundle.files)})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "trustplane.policy.sandbox"],
            input=payload,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Report(bundle.digest, False, f"compiling and testing took over {timeout:g} s")
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        return Report(bundle.digest, False, f"the Rego engine crashed ({name}) on this bundle")
    try:
        found = json.loads(done.stdout)
        return Report(
            found["digest"],
            bool(found["compiled"]),
            found.get("error"),
            [TestResult(t["name"], bool(t["passed"]), t.get("error")) for t in found["tests"]],
        )
    except (ValueError, KeyError, TypeError):
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return Report(bundle.digest, False, f"the Rego engine failed: {tail[0][:300]}")


def run(bundle: Bundle) -> Report:
    """Compile, query both entrypoints on an empty input, run every test (in this process)."""
    import regopy

    try:
        compiled = compile_bundle(bundle)
    except CompileError as exc:
        return Report(bundle.digest, False, str(exc))
    probe = regopy.Interpreter()
    probe.set_input(regopy.Input({}))
    for entrypoint in (ALLOW, VIOLATIONS):
        text = str(probe.query_bundle_entrypoint(compiled, entrypoint))
        if not text.startswith("{") and text != "undefined":
            return Report(bundle.digest, True, f"'{entrypoint}': {explain_error(text, bundle)}")
    try:
        return Report(bundle.digest, True, None, _tests(bundle))
    except regopy.RegoError as exc:
        return Report(
            bundle.digest, True, f"the tests do not compile: {explain_error(str(exc), bundle)}"
        )


def _tests(bundle: Bundle) -> list[TestResult]:
    """Every ``test_*`` rule, compiled once as entrypoints of one build (queried one by one:
    re-interpreting the modules for each test would cost a compile per test)."""
    import regopy

    names = bundle.tests()
    if not names:
        return []
    interpreter = regopy.Interpreter()
    if bundle.data:
        interpreter.add_data_json(json.dumps(bundle.data))
    for path, source in bundle.modules.items():
        interpreter.add_module(path, source)
    compiled = interpreter.build(None, [n.replace(".", "/") for n in names])
    return [_test(interpreter, compiled, n, bundle) for n in names]


def _test(interpreter: Any, compiled: Any, name: str, bundle: Bundle) -> TestResult:
    text = str(interpreter.query_bundle_entrypoint(compiled, name.replace(".", "/")))
    if text == '{"expressions":[true]}':
        return TestResult(name, True)
    if text in ("undefined", '{"expressions":[false]}'):
        return TestResult(name, False)
    return TestResult(name, False, explain_error(text, bundle))


def main() -> None:
    """Child side: bundle files as JSON on stdin, the report as JSON on the real stdout.

    The native engine prints diagnostics to file descriptor 1, so that descriptor is pointed
    at stderr before anything runs and the report goes to a private copy of the original.
    """
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    try:
        bundle = from_files(json.load(sys.stdin)["files"])
    except (BundleError, ValueError, KeyError, TypeError) as exc:
        json.dump({"digest": "", "compiled": False, "error": str(exc), "tests": []}, out)
        return
    report = run(bundle)
    json.dump(report.as_dict(), out)
    out.flush()


if __name__ == "__main__":
    main()
