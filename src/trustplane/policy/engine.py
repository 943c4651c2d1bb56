"""The Rego engine: compile a bundle once, evaluate facts against it, fail closed.

Pure of I/O: no database, no files. A bundle is compiled (``Interpreter.build`` with the two
entrypoints) once per digest and cached; each thread queries it with its own interpreter.
Every way an evaluation can go wrong (a Rego error, a missing entrypoint, a result of the wrong
type, a timeout, an exception from the engine) becomes a denial whose violation says what went
wrong: the caller never sees an "allow" that the policy did not give.

Compiling runs the rego-cpp compiler in this process, so only bundles that passed the sandbox
(:mod:`trustplane.policy.sandbox`, a child process) are compiled here: a crash of the native
engine on a new bundle cannot take the server down.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

import regopy

from trustplane.policy.bundle import Bundle

log = logging.getLogger("trustplane.policy.engine")

ALLOW = "trustplane/decision/allow"
VIOLATIONS = "trustplane/decision/violations"
TEST_SUFFIX = "_test.rego"
QUERY = "violations := data.trustplane.decision.violations; allow := data.trustplane.decision.allow"
ENGINE_RULE = "TP-ENGINE"
UNNAMED_RULE = "TP-UNNAMED"
DEFAULT_TIMEOUT_SECONDS = 2.0

_ERROR_AT = re.compile(r"\(error \d+:([^|\s]*)\|(\d+)\|\d+")
_ERROR_MSG = re.compile(r"\(errormsg \d+:([^)\n]*)")


@dataclass(frozen=True, slots=True)
class Violation:
    id: str
    message: str
    remediation: str = ""
    owner_role: str = ""
    waiver_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "message": self.message,
            "remediation": self.remediation,
            "owner_role": self.owner_role,
        }
        if self.waiver_id is not None:
            out["waiver_id"] = self.waiver_id
        return out


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the bundle said about one fact document, after waivers."""

    allowed: bool
    violations: list[Violation] = field(default_factory=list)
    waived: list[Violation] = field(default_factory=list)
    duration_ms: float = 0.0
    engine_error: str | None = None


class CompileError(ValueError):
    """The bundle does not compile; the message names the file, line and column."""


def engine_failure(reason: str) -> Violation:
    return Violation(
        ENGINE_RULE,
        f"the policy could not be evaluated, so the step is denied: {reason}",
        "fix the active policy bundle (trustplane policy test), or activate a working one",
        "tenant-admin",
    )


def explain_error(text: str, bundle: Bundle | None = None) -> str:
    """A one-line reading of rego-cpp's error output: message, and file:line:col if known."""
    messages = _ERROR_MSG.findall(text)
    message = "; ".join(m.strip() for m in messages) or text.strip().splitlines()[0][:300]
    where = _ERROR_AT.search(text)
    if where is None or bundle is None or where.group(1) not in bundle.files:
        return message
    source = bundle.files[where.group(1)]
    offset = int(where.group(2))
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return f"{where.group(1)}:{line}:{column}: {message}"


def compile_bundle(bundle: Bundle) -> regopy.Bundle:
    """Compile ``bundle`` for decisions; raises :class:`CompileError`.

    One query binds both rules, so a decision is one evaluation (``violations`` is computed
    once). Test files (``*_test.rego``, the Rego convention) are left out: they are run by
    the sandbox, and compiled in they would slow every decision down for nothing.
    """
    interpreter = regopy.Interpreter()
    try:
        if bundle.data:
            interpreter.add_data_json(json.dumps(bundle.data))
        for path, source in bundle.modules.items():
            if not path.endswith(TEST_SUFFIX):
                interpreter.add_module(path, source)
        compiled = interpreter.build(QUERY, [VIOLATIONS, ALLOW])
    except regopy.RegoError as exc:
        raise CompileError(explain_error(str(exc), bundle)) from exc
    if not compiled.ok():
        raise CompileError("the bundle did not compile")
    return compiled


def unwaivable(bundle: Bundle) -> frozenset[str]:
    """Rule ids the bundle's data says no waiver may cover (``config.waivers.unwaivable``)."""
    config = bundle.data.get("config")
    waivers = config.get("waivers") if isinstance(config, dict) else None
    listed = waivers.get("unwaivable") if isinstance(waivers, dict) else None
    ids = {ENGINE_RULE, UNNAMED_RULE}
    if isinstance(listed, list):
        ids |= {i for i in listed if isinstance(i, str)}
    return frozenset(ids)


class Engine:
    """Compiled bundles by digest, and a small pool of threads that query them."""

    def __init__(self, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS, cache: int = 16):
        self.timeout_seconds = timeout_seconds
        self._cache: OrderedDict[str, regopy.Bundle] = OrderedDict()
        self._cache_size = cache
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rego")
        self._local = threading.local()

    def compiled(self, bundle: Bundle) -> regopy.Bundle:
        with self._lock:
            found = self._cache.get(bundle.digest)
            if found is not None:
                self._cache.move_to_end(bundle.digest)
                return found
            compiled = compile_bundle(bundle)
            self._cache[bundle.digest] = compiled
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return compiled

    def evaluate(self, bundle: Bundle, facts: dict[str, Any]) -> Outcome:
        """The decision of ``bundle`` over ``facts``; any failure is a denial that says why."""
        started = time.perf_counter()
        try:
            compiled = self.compiled(bundle)
            future = self._pool.submit(self._query, compiled, facts)
            allow, violations = future.result(timeout=self.timeout_seconds)
            outcome = _judge(allow, violations, facts, unwaivable(bundle))
        except FutureTimeout:
            outcome = _failed(f"evaluation took longer than {self.timeout_seconds:g} s")
        except CompileError as exc:
            outcome = _failed(f"the bundle does not compile: {exc}")
        except _EngineError as exc:
            outcome = _failed(str(exc))
        except Exception as exc:  # the native engine may fail in ways we cannot list
            outcome = _failed(f"the engine failed: {type(exc).__name__}: {exc}")
        elapsed = (time.perf_counter() - started) * 1000
        if outcome.engine_error is not None:  # a denial all the same; operators should know
            log.warning(
                "policy evaluation failed closed",
                extra={"bundle_digest": bundle.digest, "reason": outcome.engine_error},
            )
        return Outcome(
            outcome.allowed, outcome.violations, outcome.waived, elapsed, outcome.engine_error
        )

    def _query(self, compiled: regopy.Bundle, facts: dict[str, Any]) -> tuple[Any, Any]:
        interpreter: regopy.Interpreter | None = getattr(self._local, "interpreter", None)
        if interpreter is None:
            interpreter = self._local.interpreter = regopy.Interpreter()
        interpreter.set_input(regopy.Input(facts))
        text = str(interpreter.query_bundle(compiled))
        if text.startswith("{"):
            bindings = json.loads(text).get("bindings")
            if isinstance(bindings, dict) and {"allow", "violations"} <= bindings.keys():
                return bindings["allow"], bindings["violations"]
        # Undefined or an error: ask each rule alone, to say precisely which one failed.
        return _result(interpreter, compiled, ALLOW), _result(interpreter, compiled, VIOLATIONS)


class _EngineError(Exception):
    pass


def _result(interpreter: regopy.Interpreter, compiled: regopy.Bundle, entrypoint: str) -> Any:
    try:
        output = interpreter.query_bundle_entrypoint(compiled, entrypoint)
    except json.JSONDecodeError as exc:  # regopy hands back an error text that is not JSON
        raise _EngineError(f"'{entrypoint}' failed to evaluate") from exc
    except regopy.RegoError as exc:
        raise _EngineError(f"'{entrypoint}': {explain_error(str(exc))}") from exc
    text = str(output)
    if text == "undefined":
        raise _EngineError(f"'{entrypoint}' is undefined")
    if not output.ok() or not text.startswith("{"):
        raise _EngineError(f"'{entrypoint}' could not be evaluated: {explain_error(text)}")
    expressions = json.loads(text).get("expressions")
    if not isinstance(expressions, list) or len(expressions) != 1:
        raise _EngineError(f"'{entrypoint}' gave no single result")
    return expressions[0]


def _judge(allow: Any, raw: Any, facts: dict[str, Any], fixed: frozenset[str]) -> Outcome:
    if not isinstance(allow, bool):
        raise _EngineError(f"'allow' is {type(allow).__name__}, not a boolean")
    if not isinstance(raw, list):
        raise _EngineError("'violations' is not a set of objects")
    violations = [_violation(v) for v in raw]
    covering = _waivers(facts)
    kept: list[Violation] = []
    waived: list[Violation] = []
    for v in sorted(violations, key=lambda v: (v.id, v.message)):
        waiver = covering.get(v.id) if v.id not in fixed else None
        if waiver is None:
            kept.append(v)
        else:
            waived.append(Violation(v.id, v.message, v.remediation, v.owner_role, waiver))
    if allow and kept:  # the bundle allowed despite violations nobody waived: fail closed
        kept.append(engine_failure("'allow' is true while violations stand unwaived"))
    if not allow and not kept:
        kept.append(
            Violation(
                UNNAMED_RULE,
                "the policy denied without naming a violation",
                "read the active bundle's 'allow' rule",
                "tenant-admin",
            )
        )
    return Outcome(allow and not kept, kept, waived)


def _violation(raw: Any) -> Violation:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise _EngineError("a violation has no string 'id'")
    return Violation(
        raw["id"],
        str(raw.get("message", raw.get("msg", ""))),
        str(raw.get("remediation", "")),
        str(raw.get("owner_role", "")),
    )


def _waivers(facts: dict[str, Any]) -> dict[str, str]:
    """Rule id to the id of the first valid waiver (as given in the facts) that covers it."""
    covering: dict[str, str] = {}
    for waiver in facts.get("waivers") or []:
        if not isinstance(waiver, dict) or not isinstance(waiver.get("id"), str):
            continue
        for rule in waiver.get("rule_ids") or []:
            if isinstance(rule, str):
                covering.setdefault(rule, waiver["id"])
    return covering


def _failed(reason: str) -> Outcome:
    return Outcome(False, [engine_failure(reason)], [], engine_error=reason)
