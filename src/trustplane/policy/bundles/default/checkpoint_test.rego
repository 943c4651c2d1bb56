package trustplane.rules.checkpoint_test

import rego.v1

import data.trustplane.fixtures_test as fx
import data.trustplane.rules.checkpoint

fires(doc) if "TP-CHECKPOINT" in fx.ids(checkpoint.violations(doc, fx.cfg))

test_checkpoint_passes_for_every_known_checkpoint if {
	count(checkpoint.violations(fx.good, fx.cfg)) == 0
	count(checkpoint.violations(object.union(fx.good, {"checkpoint": "submit"}), fx.cfg)) == 0
	count(checkpoint.violations(object.union(fx.good, {"checkpoint": "approve"}), fx.cfg)) == 0
	count(checkpoint.violations(object.union(fx.good, {"checkpoint": "deploy"}), fx.cfg)) == 0
}

test_checkpoint_fires_on_unknown_checkpoint if {
	vs := checkpoint.violations(object.union(fx.good, {"checkpoint": "review"}), fx.cfg)
	fx.ids(vs) == {"TP-CHECKPOINT"}
	fx.mentions(vs, "TP-CHECKPOINT", "\"review\"")
	some v in vs
	v.owner_role == "risk-officer"
}

test_checkpoint_fires_on_wrong_case if fires(object.union(fx.good, {"checkpoint": "Promote"}))

test_checkpoint_absent_fires if fires(object.remove(fx.good, ["checkpoint"]))

test_checkpoint_absent_document_fires if fires({})

test_checkpoint_null_fires if {
	vs := checkpoint.violations(object.union(fx.good, {"checkpoint": null}), fx.cfg)
	fx.mentions(vs, "TP-CHECKPOINT", "checkpoint null")
}

test_checkpoint_null_document_fires if fires(null)

test_checkpoint_wrong_type_fires if {
	fires(object.union(fx.good, {"checkpoint": 1}))
	fires(object.union(fx.good, {"checkpoint": ["promote"]}))
	fires(object.union(fx.good, {"checkpoint": {"name": "promote"}}))
	fires("promote")
}
