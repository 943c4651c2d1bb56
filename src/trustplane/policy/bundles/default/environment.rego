# TP-ENV-TIER: the target environment is open to models of this risk tier.
#
# config.environments.allowed_by_tier[tier] lists environment names, or "*" for any.
package trustplane.rules.environment

import rego.v1

import data.trustplane.rules.common

environment(f) := common.get(f, "environment")

allowed(f, cfg) := common.get(common.get(common.get(cfg, "environments"), "allowed_by_tier"), common.tier(f))

violations(f, cfg) := {v |
	not clean(f, cfg)
	some v in closed(f, cfg)
}

# clean is a quick check that the rule does not fire.
clean(f, cfg) if {
	t := f.model.risk_tier
	t in common.tiers
	names := cfg.environments.allowed_by_tier[t]
	open_to(names, f.environment.name)
}

closed(f, cfg) := {v |
	not is_object(environment(f))
	v := common.violation(
		"TP-ENV-TIER",
		sprintf("no target environment (environment is %s), so it cannot be checked against the tier", [common.describe(environment(f))]),
		"Name the target environment before approval, promotion or deployment.",
		"risk-officer",
	)
} | {v |
	env := environment(f)
	is_object(env)
	name := common.get(env, "name")
	not open_to(allowed(f, cfg), name)
	v := common.violation(
		"TP-ENV-TIER",
		sprintf("environment %s is not open to tier %s models (allowed: %s)", [common.describe(name), common.tier(f), common.listing(common.strings(allowed(f, cfg)))]),
		"Target an environment allowed for the model's tier, or have a risk officer change config.environments.allowed_by_tier.",
		"risk-officer",
	)
}

open_to(names, name) if {
	is_array(names)
	"*" in names
	is_string(name)
}

open_to(names, name) if {
	is_array(names)
	is_string(name)
	name in names
}
