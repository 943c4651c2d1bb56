package trustplane.rules.evidence_test

import rego.v1

import data.trustplane.fixtures_test as fx
import data.trustplane.rules.evidence

fires(doc) if "TP-EVIDENCE" in fx.ids(evidence.violations(doc, fx.cfg))

with_missing(m) := object.union(fx.good, {"evidence": object.union(fx.good.evidence, {"missing": m})})

test_evidence_passes_when_nothing_is_missing if {
	count(evidence.violations(fx.good, fx.cfg)) == 0
}

test_evidence_fires_and_lists_the_missing_items if {
	vs := evidence.violations(with_missing(["owner", "metrics"]), fx.cfg)
	fx.ids(vs) == {"TP-EVIDENCE"}
	fx.mentions(vs, "TP-EVIDENCE", "evidence missing for tier high: owner, metrics")
	some v in vs
	v.owner_role == "trainer"
}

test_evidence_fires_on_items_of_the_wrong_type if {
	vs := evidence.violations(with_missing([1]), fx.cfg)
	fx.mentions(vs, "TP-EVIDENCE", "<number>")
}

test_evidence_absent_fires if {
	fires(json.patch(fx.good, [{"op": "remove", "path": "/evidence/missing"}]))
	fires(object.remove(fx.good, ["evidence"]))
}

test_evidence_null_fires if {
	vs := evidence.violations(with_missing(null), fx.cfg)
	fx.mentions(vs, "TP-EVIDENCE", "evidence.missing is null")
	fires(object.union(fx.good, {"evidence": null}))
}

test_evidence_wrong_type_fires if {
	fires(with_missing("owner"))
	fires(with_missing({"owner": true}))
	fires(with_missing(false))
	fires(object.union(fx.good, {"evidence": ["owner"]}))
}
