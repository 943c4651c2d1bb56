# TP-METRIC-MISSING and TP-METRIC-THRESHOLD: the metrics the tier (or the model) requires are
# reported and within their bounds.
#
# config.metrics.by_tier[tier] maps a metric name to its bounds ({"min": x} and/or {"max": x});
# config.metrics.by_model[model name] replaces the tier's map for one model.
package trustplane.rules.metrics

import rego.v1

import data.trustplane.rules.common

violations(f, cfg) := {v |
	not clean(f, cfg)
	spec := required(f, cfg)
	where := scope(f, cfg)
	some m in object.keys(spec)
	some v in assess(m, spec[m], value(f, m), where)
}

# clean is a quick check that neither rule fires: every required metric is reported and
# within its bounds.
clean(f, cfg) if {
	t := f.model.risk_tier
	t in common.tiers
	not cfg.metrics.by_model[f.model.name]
	spec := cfg.metrics.by_tier[t]
	within(f, spec)
}

clean(f, cfg) if {
	spec := cfg.metrics.by_model[f.model.name]
	within(f, spec)
}

# within: every metric of spec is reported by the version and meets its bounds.
within(f, spec) if {
	is_object(spec)
	reported := f.version.metrics
	count([m |
		some m in object.keys(spec)
		x := reported[m]
		is_number(x)
		bounds := spec[m]
		not x < bounds.min
		not x > bounds.max
	]) == count(spec)
}

# required is the metric map that applies to the fact document.
required(f, cfg) := spec if {
	spec := common.get(common.get(common.get(cfg, "metrics"), "by_model"), model_name(f))
	is_object(spec)
} else := spec if {
	spec := common.get(common.get(common.get(cfg, "metrics"), "by_tier"), common.tier(f))
	is_object(spec)
} else := {}

# scope says in a message where the requirement comes from.
scope(f, cfg) := sprintf("model %s", [common.describe(model_name(f))]) if {
	is_object(common.get(common.get(common.get(cfg, "metrics"), "by_model"), model_name(f)))
} else := sprintf("tier %s", [common.tier(f)])

model_name(f) := n if {
	n := common.get(common.get(f, "model"), "name")
	is_string(n)
} else := ""

# value is the metric as the version reports it, else as its producing run does, else null.
value(f, m) := x if {
	x := common.get(common.get(common.get(f, "version"), "metrics"), m)
	is_number(x)
} else := x if {
	x := common.get(common.get(common.get(f, "run"), "metrics"), m)
	is_number(x)
} else := null

# assess is what metric m, with bounds and reported value x (null when not reported), breaks.
assess(m, bounds, x, where) := {v |
	x == null
	v := common.violation(
		"TP-METRIC-MISSING",
		sprintf("metric \"%s\" required for %s is not reported as a number (version.metrics or run.metrics)", [m, where]),
		sprintf("Evaluate the model for \"%s\" and record it in the version's (or its run's) metrics.", [m]),
		"trainer",
	)
} | {v |
	# A bound cannot be met by a metric that is not reported.
	x == null
	some kind in ["min", "max"]
	bound := common.get(bounds, kind)
	is_number(bound)
	v := common.violation(
		"TP-METRIC-THRESHOLD",
		sprintf("metric \"%s\" has no numeric value to hold to the %s %.6g for %s", [m, kind, bound, where]),
		sprintf("Evaluate the model for \"%s\" and record it in the version's (or its run's) metrics.", [m]),
		"validator",
	)
} | {v |
	bound := common.get(bounds, "min")
	is_number(bound)
	is_number(x)
	x < bound
	v := common.violation(
		"TP-METRIC-THRESHOLD",
		sprintf("metric \"%s\" is %.6g, below the minimum %.6g for %s", [m, x, bound, where]),
		sprintf("Improve the model until \"%s\" reaches %.6g, or have the bound changed in config.metrics (or waived).", [m, bound]),
		"validator",
	)
} | {v |
	bound := common.get(bounds, "max")
	is_number(bound)
	is_number(x)
	x > bound
	v := common.violation(
		"TP-METRIC-THRESHOLD",
		sprintf("metric \"%s\" is %.6g, above the maximum %.6g for %s", [m, x, bound, where]),
		sprintf("Improve the model until \"%s\" is at most %.6g, or have the bound changed in config.metrics (or waived).", [m, bound]),
		"validator",
	)
}
