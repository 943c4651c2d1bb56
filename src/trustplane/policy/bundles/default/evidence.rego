# TP-EVIDENCE: the version's completeness report lists no missing evidence.
package trustplane.rules.evidence

import rego.v1

import data.trustplane.rules.common

violations(f, cfg) := {v |
	not clean(f, cfg)
	some v in absent(f) | incomplete(f)
}

# clean is a quick check that the rule does not fire.
clean(f, _) if f.evidence.missing == []

remediation := "Supply the missing evidence (owner, intended use, producing run, metrics, evaluations...) in the registry, then retry."

absent(f) := {v |
	missing := common.get(common.get(f, "evidence"), "missing")
	not is_array(missing)
	v := common.violation(
		"TP-EVIDENCE",
		sprintf("no completeness report: evidence.missing is %s", [common.describe(missing)]),
		remediation,
		"trainer",
	)
}

incomplete(f) := {v |
	missing := common.get(common.get(f, "evidence"), "missing")
	is_array(missing)
	count(missing) > 0
	names := [item_name(x) | some x in missing]
	v := common.violation(
		"TP-EVIDENCE",
		sprintf("evidence missing for tier %s: %s", [common.tier(f), common.join(names)]),
		remediation,
		"trainer",
	)
}

item_name(x) := x if is_string(x)
else := sprintf("<%s>", [type_name(x)])
