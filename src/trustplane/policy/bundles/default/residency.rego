# TP-DATA-RESIDENCY: the target environment may hold every dataset the model was trained on.
#
# Sensitivity ranks public < internal < confidential < restricted-personal; a dataset may not
# rank above the environment's ceiling, and an unknown value denies. A restricted-personal
# dataset may only reach the regions config.residency.allowed_regions lists for its own region
# (a region not listed there allows only itself).
package trustplane.rules.residency

import rego.v1

import data.trustplane.rules.common

ranks := {"public": 0, "internal": 1, "confidential": 2, "restricted-personal": 3}

owner := "data-steward"

violations(f, cfg) := {v |
	not clean(f, cfg)
	some v in (((no_environment(f) | no_datasets(f)) | ceiling(f)) | sensitivity(f)) | regions(f, cfg)
}

# clean is a quick check that the rule does not fire: every dataset ranks within the
# environment's ceiling, and restricted-personal data stays in allowed regions.
clean(f, cfg) if {
	env := f.environment
	top := ranks[env.sensitivity_ceiling]
	ds := f.lineage.datasets
	is_array(ds)
	count([1 | some d in ds; ranks[d.sensitivity] <= top]) == count(ds)
	count([1 | some d in ds; d.sensitivity == "restricted-personal"; not may_reside(d.region, env, cfg)]) == 0
}

may_reside(origin, env, cfg) if env.region in allowed_regions(origin, cfg)

environment(f) := common.get(f, "environment")

datasets(f) := common.get(common.get(f, "lineage"), "datasets")

env_name(f) := common.describe(common.get(environment(f), "name"))

no_environment(f) := {v |
	not is_object(environment(f))
	v := common.violation(
		"TP-DATA-RESIDENCY",
		sprintf("no target environment (environment is %s), so data residency cannot be checked", [common.describe(environment(f))]),
		"Name the target environment, with its region and sensitivity ceiling, before approval, promotion or deployment.",
		owner,
	)
}

no_datasets(f) := {v |
	not is_array(datasets(f))
	v := common.violation(
		"TP-DATA-RESIDENCY",
		sprintf("the datasets the model was trained on are unknown: lineage.datasets is %s", [common.describe(datasets(f))]),
		"Record the producing run's lineage (the dataset versions it read) so their residency can be checked.",
		owner,
	)
}

ceiling(f) := {v |
	env := environment(f)
	is_object(env)
	c := common.get(env, "sensitivity_ceiling")
	not known(c)
	v := common.violation(
		"TP-DATA-RESIDENCY",
		sprintf("environment %s has an unknown sensitivity ceiling %s", [env_name(f), common.describe(c)]),
		"Set the environment's sensitivity ceiling to public, internal, confidential or restricted-personal.",
		owner,
	)
}

sensitivity(f) := {v |
	is_object(environment(f))
	ds := common.array_or_empty(datasets(f))
	some i
	d := ds[i]
	s := common.get(d, "sensitivity")
	not known(s)
	v := common.violation(
		"TP-DATA-RESIDENCY",
		sprintf("dataset %s has an unknown sensitivity %s", [common.label(d, i), common.describe(s)]),
		sprintf("Classify dataset %s as public, internal, confidential or restricted-personal.", [common.label(d, i)]),
		owner,
	)
} | {v |
	env := environment(f)
	c := common.get(env, "sensitivity_ceiling")
	known(c)
	ds := common.array_or_empty(datasets(f))
	some i
	d := ds[i]
	s := common.get(d, "sensitivity")
	known(s)
	ranks[s] > ranks[c]
	v := common.violation(
		"TP-DATA-RESIDENCY",
		sprintf("dataset %s is %s, above the ceiling %s of environment %s", [common.label(d, i), s, c, env_name(f)]),
		sprintf("Deploy to an environment cleared for %s data, or retrain without dataset %s.", [s, common.label(d, i)]),
		owner,
	)
}

regions(f, cfg) := {v |
	env := environment(f)
	is_object(env)
	here := common.get(env, "region")
	ds := common.array_or_empty(datasets(f))
	some i
	d := ds[i]
	common.get(d, "sensitivity") == "restricted-personal"
	origin := common.get(d, "region")
	allowed := allowed_regions(origin, cfg)
	not here in allowed
	v := common.violation(
		"TP-DATA-RESIDENCY",
		sprintf("restricted-personal dataset %s from region %s may not be used in region %s (environment %s); allowed: %s", [common.label(d, i), common.describe(origin), common.describe(here), env_name(f), common.listing(common.strings(allowed))]),
		sprintf("Keep the model in a region allowed for dataset %s, or retrain without it.", [common.label(d, i)]),
		owner,
	)
}

known(s) if is_number(ranks[s])

# allowed_regions lists where data from region origin may go; nowhere when origin is unknown.
allowed_regions(origin, cfg) := rs if {
	is_string(origin)
	rs := common.get(common.get(common.get(cfg, "residency"), "allowed_regions"), origin)
	is_array(rs)
} else := [origin] if {
	is_string(origin)
} else := []
