# TP-RISK-TIER: the model carries a known risk tier (every other rule depends on it).
package trustplane.rules.risk

import rego.v1

import data.trustplane.rules.common

violations(f, _) := {v |
	t := common.get(common.get(f, "model"), "risk_tier")
	not t in common.tiers
	v := common.violation(
		"TP-RISK-TIER",
		sprintf("model risk tier is %s, not one of low, medium, high, critical", [common.describe(t)]),
		"Set the model's risk tier to low, medium, high or critical; until then it is held to the critical tier's rules.",
		"trainer",
	)
}
