# TP-STATE-SUSPENDED: a suspended model version may take no governed step.
package trustplane.rules.state

import rego.v1

import data.trustplane.rules.common

violations(f, cfg) := {v |
	not clean(f, cfg)
	some v in unknown(f) | suspended(f)
}

# clean is a quick check that the rule does not fire.
clean(f, _) if {
	s := f.version.state
	is_string(s)
	s != "suspended"
}

unknown(f) := {v |
	s := common.get(common.get(f, "version"), "state")
	not is_string(s)
	v := common.violation(
		"TP-STATE-SUSPENDED",
		sprintf("the model version's state is %s, so it cannot be shown not to be suspended", [common.describe(s)]),
		"Record the version's lifecycle state in the registry before deciding on it.",
		"risk-officer",
	)
}

suspended(f) := {v |
	common.get(common.get(f, "version"), "state") == "suspended"
	n := common.get(common.get(f, "version"), "version")
	v := common.violation(
		"TP-STATE-SUSPENDED",
		sprintf("model version %s is suspended", [version_name(n)]),
		"Resolve the incident that suspended the version and have a risk officer reinstate it; a suspension cannot be waived.",
		"risk-officer",
	)
}

version_name(n) := sprintf("%v", [n]) if common.versioned(n)
else := "(unnumbered)"
