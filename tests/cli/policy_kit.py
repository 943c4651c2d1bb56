"""Small policy bundles for the CLI tests, written into a folder as ``trustplane policy`` reads.

Their tests avoid Rego's ``with`` keyword except where a crash of the engine is the point.
"""

from __future__ import annotations

import json
from pathlib import Path

HEAD = "package trustplane.decision\nimport rego.v1\n"
TEST_HEAD = "package trustplane.decision_test\nimport rego.v1\n"

ALLOW = HEAD + "violations := set()\nallow := true\n"

DENY = HEAD + (
    'violations contains {"id": "TP-ALWAYS", "message": "this bundle denies everything",'
    ' "remediation": "activate another bundle", "owner_role": "tenant-admin"}\n'
    "allow := false\n"
)

#: At approve and promote: a sign-off bound to the current artifact is missing until given,
#: and a fairness rule always stands unless a waiver covers it.
RELEASE = (
    HEAD
    + """
signed if {
    some a in input.approvals
    a.decision == "approve"
    a.artifact_digest == input.version.artifact_digest
}

waived contains rule if {
    some w in input.waivers
    some rule in w.rule_ids
}

governed if input.checkpoint in {"approve", "promote"}

violations contains v if {
    governed
    not signed
    v := {"id": "TP-SIGNOFF-MISSING", "message": "a release approver must sign off",
          "remediation": "ask a release approver", "owner_role": "release-approver"}
}

violations contains v if {
    governed
    v := {"id": "TP-FAIRNESS-GAP", "message": "the fairness gap is above the limit",
          "remediation": "retrain with reweighting, or get a waiver", "owner_role": "validator"}
}

unwaived contains v if {
    some v in violations
    not waived[v.id]
}

allow := count(unwaived) == 0
"""
)

PASSING_TEST = TEST_HEAD + "test_allows if data.trustplane.decision.allow\n"
FAILING_TEST = PASSING_TEST + "test_arithmetic if 1 == 2\n"
BROKEN = HEAD + "violations := set(\nallow := true\n"

#: A ``with`` over a rule that calls a builtin aborts rego-cpp (the sandbox reports it).
CRASHING = HEAD + "n := count(input.items)\nviolations := set()\nallow := true\n"
CRASHING_TEST = (
    TEST_HEAD + 'test_count if data.trustplane.decision.n == 2 with input as {"items": [1, 2]}\n'
)

SECOND_APPROVAL = json.dumps({"config": {"activation": {"second_approval": True}}})


def write_bundle(
    folder: Path, decision: str, test: str | None = None, data: str | None = None
) -> Path:
    """``decision.rego`` (and ``decision_test.rego``, ``data.json``) in a new folder."""
    folder.mkdir(parents=True)
    (folder / "decision.rego").write_text(decision, encoding="utf-8")
    if test is not None:
        (folder / "decision_test.rego").write_text(test, encoding="utf-8")
    if data is not None:
        (folder / "data.json").write_text(data, encoding="utf-8")
    return folder
