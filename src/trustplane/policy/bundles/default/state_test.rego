package trustplane.rules.state_test

import rego.v1

import data.trustplane.fixtures_test as fx
import data.trustplane.rules.state

fires(doc) if "TP-STATE-SUSPENDED" in fx.ids(state.violations(doc, fx.cfg))

with_state(s) := object.union(fx.good, {"version": object.union(fx.good.version, {"state": s})})

test_state_suspended_passes_for_other_states if {
	count(state.violations(fx.good, fx.cfg)) == 0
	count(state.violations(with_state("draft"), fx.cfg)) == 0
	count(state.violations(with_state("deployed"), fx.cfg)) == 0
}

test_state_suspended_fires_when_suspended if {
	vs := state.violations(with_state("suspended"), fx.cfg)
	fx.ids(vs) == {"TP-STATE-SUSPENDED"}
	fx.mentions(vs, "TP-STATE-SUSPENDED", "model version 3 is suspended")
	some v in vs
	v.owner_role == "risk-officer"
}

test_state_suspended_absent_fires if {
	fires(json.patch(fx.good, [{"op": "remove", "path": "/version/state"}]))
	fires(object.remove(fx.good, ["version"]))
}

test_state_suspended_null_fires if {
	vs := state.violations(with_state(null), fx.cfg)
	fx.mentions(vs, "TP-STATE-SUSPENDED", "state is null")
	fires(object.union(fx.good, {"version": null}))
}

test_state_suspended_wrong_type_fires if {
	fires(with_state(true))
	fires(with_state(1))
	fires(with_state(["suspended"]))
}
