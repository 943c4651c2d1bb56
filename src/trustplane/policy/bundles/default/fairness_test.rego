package trustplane.rules.fairness_test

import rego.v1

import data.trustplane.fixtures_test as fx
import data.trustplane.rules.fairness

found(doc) := fx.ids(fairness.violations(doc, fx.cfg))

with_evaluations(evs) := object.union(fx.good, {"version": object.union(fx.good.version, {"evaluations": evs})})

with_tier(doc, t) := object.union(doc, {"model": object.union(doc.model, {"risk_tier": t})})

holdout := {"name": "auc-holdout", "passed": true, "value": 0.81, "threshold": 0.75, "metric": "auc", "group": null}

tpr(group, value) := {"name": "tpr", "passed": true, "value": value, "threshold": null, "metric": "tpr", "group": group}

no_evaluations := object.union(fx.good, {"version": object.remove(fx.good.version, ["evaluations"])})

test_fairness_missing_passes_with_two_groups if {
	count(fairness.violations(fx.good, fx.cfg)) == 0
}

test_fairness_missing_passes_when_the_tier_sets_no_tolerance if {
	count(fairness.violations(with_tier(no_evaluations, "medium"), fx.cfg)) == 0
	count(fairness.violations(with_tier(with_evaluations([holdout]), "low"), fx.cfg)) == 0
}

test_fairness_missing_fires_without_group_values if {
	vs := fairness.violations(with_evaluations([holdout]), fx.cfg)
	fx.ids(vs) == {"TP-FAIRNESS-MISSING"}
	fx.mentions(vs, "TP-FAIRNESS-MISSING", "tier high requires a fairness evaluation (tolerance 0.1)")
	some v in vs
	v.owner_role == "validator"
}

test_fairness_missing_fires_with_a_single_group if {
	found(with_evaluations([holdout, tpr("female", 0.7)])) == {"TP-FAIRNESS-MISSING"}
}

test_fairness_missing_fires_at_the_critical_tolerance_when_the_tier_is_unknown if {
	vs := fairness.violations(with_tier(with_evaluations([holdout]), null), fx.cfg)
	fx.mentions(vs, "TP-FAIRNESS-MISSING", "tier critical requires a fairness evaluation (tolerance 0.05)")
}

test_fairness_missing_absent_fires if {
	"TP-FAIRNESS-MISSING" in found(no_evaluations)
	"TP-FAIRNESS-MISSING" in found(with_evaluations([]))
}

test_fairness_missing_null_fires if {
	vs := fairness.violations(with_evaluations(null), fx.cfg)
	fx.mentions(vs, "TP-FAIRNESS-MISSING", "version.evaluations is null")
	"TP-FAIRNESS-MISSING" in found(with_evaluations([holdout, tpr(null, 0.7), tpr(null, 0.9)]))
}

test_fairness_missing_wrong_type_fires if {
	"TP-FAIRNESS-MISSING" in found(with_evaluations("tpr-by-sex"))
	"TP-FAIRNESS-MISSING" in found(with_evaluations({"tpr": [0.7, 0.8]}))
	"TP-FAIRNESS-MISSING" in found(with_evaluations(["tpr", 0.7]))
}

test_fairness_gap_passes_within_the_tolerance if {
	count(fairness.violations(fx.good, fx.cfg)) == 0
	count(fairness.violations(with_evaluations([tpr("a", 0.7), tpr("b", 0.75), tpr("c", 0.72)]), fx.cfg)) == 0
}

test_fairness_gap_fires_above_the_tolerance if {
	vs := fairness.violations(with_evaluations([holdout, tpr("male", 0.9), tpr("female", 0.74)]), fx.cfg)
	fx.ids(vs) == {"TP-FAIRNESS-GAP"}
	fx.mentions(vs, "TP-FAIRNESS-GAP", "metric \"tpr\" varies by 0.16 across groups female, male, above the tolerance 0.1 for tier high")
	some v in vs
	v.owner_role == "validator"
}

test_fairness_gap_fires_at_the_critical_tolerance if {
	doc := with_tier(with_evaluations([tpr("female", 0.7), tpr("male", 0.76)]), "critical")
	found(doc) == {"TP-FAIRNESS-GAP"}
	count(fairness.violations(with_tier(doc, "high"), fx.cfg)) == 0
}

test_fairness_gap_absent_fires if {
	vs := fairness.violations(no_evaluations, fx.cfg)
	fx.mentions(vs, "TP-FAIRNESS-GAP", "the fairness gap cannot be checked against the tolerance 0.1 for tier high")
	"TP-FAIRNESS-GAP" in found(with_evaluations([tpr("female", 0.7), {"name": "tpr-male", "metric": "tpr", "group": "male"}]))
}

test_fairness_gap_null_fires if {
	"TP-FAIRNESS-GAP" in found(with_evaluations(null))
	vs := fairness.violations(with_evaluations([tpr("female", 0.7), tpr("male", null)]), fx.cfg)
	fx.mentions(vs, "TP-FAIRNESS-GAP", "evaluation tpr has a group but no usable value (group \"male\", metric \"tpr\", value null)")
}

test_fairness_gap_wrong_type_fires if {
	"TP-FAIRNESS-GAP" in found(with_evaluations("tpr"))
	"TP-FAIRNESS-GAP" in found(with_evaluations([tpr("female", 0.7), tpr("male", "0.9")]))
	"TP-FAIRNESS-GAP" in found(with_evaluations([tpr("female", 0.7), tpr(1, 0.9)]))
	"TP-FAIRNESS-GAP" in found(with_evaluations([tpr("female", 0.7), tpr("male", 0.72), {"group": "x", "metric": 3, "value": 0.1}]))
}
