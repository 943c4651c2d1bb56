package trustplane.rules.environment_test

import rego.v1

import data.trustplane.fixtures_test as fx
import data.trustplane.rules.environment

found(doc) := fx.ids(environment.violations(doc, fx.cfg))

with_name(name) := object.union(fx.good, {"environment": object.union(fx.good.environment, {"name": name})})

with_tier(doc, t) := object.union(doc, {"model": object.union(doc.model, {"risk_tier": t})})

# only_staging lets high and critical models into staging alone.
only_staging := json.patch(fx.cfg, [
	{"op": "add", "path": "/environments/allowed_by_tier/high", "value": ["dev", "staging"]},
	{"op": "add", "path": "/environments/allowed_by_tier/critical", "value": ["staging"]},
])

test_env_tier_passes_for_an_allowed_environment if {
	count(environment.violations(fx.good, fx.cfg)) == 0
	count(environment.violations(with_name("staging"), only_staging)) == 0
	count(environment.violations(with_tier(fx.good, "medium"), only_staging)) == 0
}

test_env_tier_fires_for_an_environment_closed_to_the_tier if {
	vs := environment.violations(fx.good, only_staging)
	fx.ids(vs) == {"TP-ENV-TIER"}
	fx.mentions(vs, "TP-ENV-TIER", "environment \"prod\" is not open to tier high models (allowed: dev, staging)")
	some v in vs
	v.owner_role == "risk-officer"
}

test_env_tier_fires_at_the_critical_list_when_the_tier_is_unknown if {
	vs := environment.violations(with_tier(with_name("dev"), null), only_staging)
	fx.mentions(vs, "TP-ENV-TIER", "environment \"dev\" is not open to tier critical models (allowed: staging)")
}

test_env_tier_fires_when_the_tier_has_no_list if {
	cfg := json.patch(fx.cfg, [{"op": "remove", "path": "/environments/allowed_by_tier/high"}])
	vs := environment.violations(fx.good, cfg)
	fx.mentions(vs, "TP-ENV-TIER", "(allowed: none)")
}

test_env_tier_absent_fires if {
	vs := environment.violations(object.remove(fx.good, ["environment"]), fx.cfg)
	fx.mentions(vs, "TP-ENV-TIER", "no target environment (environment is null)")
	found(object.union(fx.good, {"environment": object.remove(fx.good.environment, ["name"])})) == {"TP-ENV-TIER"}
}

test_env_tier_null_fires if {
	found(object.union(fx.good, {"environment": null})) == {"TP-ENV-TIER"}
	found(with_name(null)) == {"TP-ENV-TIER"}
}

test_env_tier_wrong_type_fires if {
	found(object.union(fx.good, {"environment": "prod"})) == {"TP-ENV-TIER"}
	found(object.union(fx.good, {"environment": ["prod"]})) == {"TP-ENV-TIER"}
	found(with_name(1)) == {"TP-ENV-TIER"}
	found(with_name(["prod"])) == {"TP-ENV-TIER"}
}
