# TP-CHECKPOINT: the fact document names a checkpoint the bundle knows.
package trustplane.rules.checkpoint

import rego.v1

import data.trustplane.rules.common

checkpoints := ["submit", "approve", "promote", "deploy"]

violations(f, _) := {v |
	c := common.get(f, "checkpoint")
	not c in checkpoints
	v := common.violation(
		"TP-CHECKPOINT",
		sprintf("unknown checkpoint %s: expected submit, approve, promote or deploy", [common.describe(c)]),
		"Fix the caller: every decision must name its checkpoint (submit, approve, promote or deploy).",
		"risk-officer",
	)
}
