# TP-FAIRNESS-MISSING and TP-FAIRNESS-GAP: where the tier sets a fairness tolerance
# (config.fairness.max_gap[tier]), the version is evaluated per group, and no metric varies
# across groups by more than that tolerance.
#
# A group value is an entry of version.evaluations with a string "group", a string "metric"
# and a numeric "value"; an entry with a non-null group that is not such a value denies.
package trustplane.rules.fairness

import rego.v1

import data.trustplane.rules.common

violations(f, cfg) := {v |
	not clean(f, cfg)
	tolerance := max_gap(f, cfg)
	some v in judged(evaluations(f), tolerance, common.tier(f))
}

# clean is a quick check that neither rule fires: no tolerance applies, or the group values
# are well formed, some metric covers two groups, and no metric's gap exceeds the tolerance.
clean(f, cfg) if {
	t := f.model.risk_tier
	t in common.tiers
	not is_number(cfg.fairness.max_gap[t])
}

clean(f, cfg) if {
	t := f.model.risk_tier
	t in common.tiers
	tolerance := cfg.fairness.max_gap[t]
	is_number(tolerance)
	fair(f.version.evaluations, tolerance)
}

fair(evs, tolerance) if {
	is_array(evs)
	entries := [e | some e in evs; e.group != null]
	count([1 | some e in entries; is_string(e.group); is_string(e.metric); is_number(e.value)]) == count(entries)
	names := {e.metric | some e in entries}

	# Some metric covers two groups exactly when there are more (metric, group) pairs than metrics.
	count({[e.metric, e.group] | some e in entries}) > count(names)
	count([m |
		some m in names
		vals := [e.value | some e in entries; e.metric == m]
		max(vals) - min(vals) > tolerance
	]) == 0
}

# max_gap is the tier's tolerance; undefined when the tier requires no fairness evaluation.
max_gap(f, cfg) := g if {
	g := common.get(common.get(common.get(cfg, "fairness"), "max_gap"), common.tier(f))
	is_number(g)
}

evaluations(f) := common.get(common.get(f, "version"), "evaluations")

remediation_missing := "Evaluate the model per group (entries of version.evaluations with group, metric and value) for at least one metric and two or more groups."

# judged is what evaluations evs break, held to tolerance for tier.
judged(evs, tolerance, tier) := {missing, unusable} if {
	not is_array(evs)
	missing := common.violation(
		"TP-FAIRNESS-MISSING",
		sprintf("tier %s requires a fairness evaluation (tolerance %.6g) but version.evaluations is %s", [tier, tolerance, common.describe(evs)]),
		remediation_missing,
		"validator",
	)
	unusable := common.violation(
		"TP-FAIRNESS-GAP",
		sprintf("the fairness gap cannot be checked against the tolerance %.6g for tier %s: version.evaluations is %s", [tolerance, tier, common.describe(evs)]),
		remediation_missing,
		"validator",
	)
}

judged(evs, tolerance, tier) := (malformed(evs) | unassessed(values, tolerance, tier)) | gaps(values, tolerance, tier) if {
	is_array(evs)
	values := [e | some e in evs; is_string(e.group); is_string(e.metric); is_number(e.value)]
}

# malformed: an entry with a group that is not a group value cannot be checked.
malformed(evs) := {v |
	some i
	e := evs[i]
	group := e.group
	group != null
	not group_value(e)
	v := common.violation(
		"TP-FAIRNESS-GAP",
		sprintf("evaluation %s has a group but no usable value (group %s, metric %s, value %s)", [evaluation_name(e, i), common.describe(group), common.describe(common.get(e, "metric")), common.describe(common.get(e, "value"))]),
		"Record each group evaluation with a string group, a string metric and a numeric value.",
		"validator",
	)
}

group_value(e) if {
	is_string(e.group)
	is_string(e.metric)
	is_number(e.value)
}

evaluation_name(e, i) := e.name if {
	is_string(e.name)
} else := sprintf("#%d", [i])

# unassessed: no metric has values for two or more groups (values holds only group values).
unassessed(values, tolerance, tier) := {v |
	# Some metric covers two groups exactly when there are more (metric, group) pairs than metrics.
	count({[e.metric, e.group] | some e in values}) <= count({e.metric | some e in values})
	v := common.violation(
		"TP-FAIRNESS-MISSING",
		sprintf("tier %s requires a fairness evaluation (tolerance %.6g) but no metric in version.evaluations has values for two or more groups", [tier, tolerance]),
		remediation_missing,
		"validator",
	)
}

gaps(values, tolerance, tier) := {v |
	some m in {e.metric | some e in values}
	numbers := [e.value | some e in values; e.metric == m]
	gap := max(numbers) - min(numbers)
	gap > tolerance
	groups := sort({e.group | some e in values; e.metric == m})
	v := common.violation(
		"TP-FAIRNESS-GAP",
		sprintf("metric \"%s\" varies by %.6g across groups %s, above the tolerance %.6g for tier %s", [m, gap, common.join(groups), tolerance, tier]),
		sprintf("Mitigate the disparity in \"%s\" (reweighting, thresholds per group, more data) and re-evaluate, or request a waiver with a justification.", [m]),
		"validator",
	)
}
