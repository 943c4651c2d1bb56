package trustplane.rules.risk_test

import rego.v1

import data.trustplane.fixtures_test as fx
import data.trustplane.rules.common
import data.trustplane.rules.risk

fires(doc) if "TP-RISK-TIER" in fx.ids(risk.violations(doc, fx.cfg))

tiered(t) := object.union(fx.good, {"model": object.union(fx.good.model, {"risk_tier": t})})

test_risk_tier_passes_for_every_tier if {
	count(risk.violations(tiered("low"), fx.cfg)) == 0
	count(risk.violations(tiered("medium"), fx.cfg)) == 0
	count(risk.violations(tiered("high"), fx.cfg)) == 0
	count(risk.violations(tiered("critical"), fx.cfg)) == 0
}

test_risk_tier_fires_on_unknown_tier if {
	vs := risk.violations(tiered("extreme"), fx.cfg)
	fx.ids(vs) == {"TP-RISK-TIER"}
	fx.mentions(vs, "TP-RISK-TIER", "\"extreme\"")
	some v in vs
	v.owner_role == "trainer"
}

test_risk_tier_fires_and_holds_the_model_to_critical if {
	fires(tiered("High"))
	common.tier(tiered("High")) == "critical"
	common.tier(tiered(null)) == "critical"
	common.tier(tiered("low")) == "low"
}

test_risk_tier_absent_fires if {
	fires(json.patch(fx.good, [{"op": "remove", "path": "/model/risk_tier"}]))
	fires(object.remove(fx.good, ["model"]))
}

test_risk_tier_null_fires if {
	vs := risk.violations(tiered(null), fx.cfg)
	fx.mentions(vs, "TP-RISK-TIER", "risk tier is null")
	fires(object.union(fx.good, {"model": null}))
}

test_risk_tier_wrong_type_fires if {
	fires(tiered(3))
	fires(tiered(["high"]))
	fires(object.union(fx.good, {"model": "credit-scoring"}))
}
