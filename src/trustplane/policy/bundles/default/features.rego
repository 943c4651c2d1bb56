# TP-FEATURE-DEPRECATED: no feature version the producing run used is deprecated.
package trustplane.rules.features

import rego.v1

import data.trustplane.rules.common

features(f) := common.get(common.get(f, "lineage"), "features")

violations(f, cfg) := {v |
	not clean(f, cfg)
	some v in deprecated(f)
}

# clean is a quick check that the rule does not fire: every feature marked not deprecated.
clean(f, _) if {
	fs := f.lineage.features
	is_array(fs)
	count([1 | some x in fs; x.deprecated == false]) == count(fs)
}

deprecated(f) := {v |
	not is_array(features(f))
	v := common.violation(
		"TP-FEATURE-DEPRECATED",
		sprintf("the features the model uses are unknown: lineage.features is %s", [common.describe(features(f))]),
		"Record the producing run's lineage (the feature versions it used) so deprecations can be checked.",
		"feature-engineer",
	)
} | {v |
	fs := features(f)
	is_array(fs)
	some i
	x := fs[i]
	common.get(x, "deprecated") == true
	v := common.violation(
		"TP-FEATURE-DEPRECATED",
		sprintf("feature %s is deprecated: %s", [common.label(x, i), reason(common.get(x, "deprecation_reason"))]),
		sprintf("Move the model off feature %s to its replacement and retrain.", [common.label(x, i)]),
		"feature-engineer",
	)
} | {v |
	fs := features(f)
	is_array(fs)
	some i
	x := fs[i]
	flag := common.get(x, "deprecated")
	not is_boolean(flag)
	v := common.violation(
		"TP-FEATURE-DEPRECATED",
		sprintf("feature %s has no deprecation status (deprecated is %s)", [common.label(x, i), common.describe(flag)]),
		sprintf("Record whether feature %s is deprecated.", [common.label(x, i)]),
		"feature-engineer",
	)
}

reason(r) := r if is_string(r)
else := "no reason given"
