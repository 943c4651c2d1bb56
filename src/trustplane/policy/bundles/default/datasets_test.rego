package trustplane.rules.datasets_test

import rego.v1

import data.trustplane.fixtures_test as fx
import data.trustplane.rules.datasets

found(doc) := fx.ids(datasets.violations(doc, fx.cfg))

with_datasets(ds) := object.union(fx.good, {"lineage": object.union(fx.good.lineage, {"datasets": ds})})

# with_second sets fields of the second dataset (bureau@2026-09).
with_second(fields) := with_datasets([fx.good.lineage.datasets[0], object.union(fx.good.lineage.datasets[1], fields)])

without_second(key) := with_datasets([fx.good.lineage.datasets[0], object.remove(fx.good.lineage.datasets[1], [key])])

test_data_unapproved_passes_when_every_dataset_is_approved if {
	count(datasets.violations(fx.good, fx.cfg)) == 0
	count(datasets.violations(with_datasets([]), fx.cfg)) == 0
}

test_data_unapproved_fires_on_a_pending_dataset if {
	vs := datasets.violations(with_second({"approval_status": "pending"}), fx.cfg)
	fx.ids(vs) == {"TP-DATA-UNAPPROVED"}
	fx.mentions(vs, "TP-DATA-UNAPPROVED", "dataset bureau@2026-09 is not approved (approval_status \"pending\")")
	some v in vs
	v.owner_role == "data-steward"
}

test_data_unapproved_fires_on_a_rejected_dataset if {
	found(with_second({"approval_status": "rejected"})) == {"TP-DATA-UNAPPROVED"}
}

test_data_unapproved_absent_fires if {
	found(without_second("approval_status")) == {"TP-DATA-UNAPPROVED"}
	"TP-DATA-UNAPPROVED" in found(object.union(fx.good, {"lineage": object.remove(fx.good.lineage, ["datasets"])}))
	"TP-DATA-UNAPPROVED" in found(object.remove(fx.good, ["lineage"]))
}

test_data_unapproved_null_fires if {
	found(with_second({"approval_status": null})) == {"TP-DATA-UNAPPROVED"}
	vs := datasets.violations(with_datasets(null), fx.cfg)
	fx.mentions(vs, "TP-DATA-UNAPPROVED", "lineage.datasets is null")
	"TP-DATA-UNAPPROVED" in found(object.union(fx.good, {"lineage": null}))
}

test_data_unapproved_wrong_type_fires if {
	found(with_second({"approval_status": true})) == {"TP-DATA-UNAPPROVED"}
	"TP-DATA-UNAPPROVED" in found(with_datasets("loans"))
	"TP-DATA-UNAPPROVED" in found(with_datasets({"loans": "approved"}))
	vs := datasets.violations(with_datasets([fx.good.lineage.datasets[0], "dv_bureau"]), fx.cfg)
	fx.mentions(vs, "TP-DATA-UNAPPROVED", "dataset #1 is not approved")
}

test_data_flagged_passes_when_no_dataset_is_flagged if {
	count(datasets.violations(fx.good, fx.cfg)) == 0
	count(datasets.violations(with_second({"flag_reason": "stale"}), fx.cfg)) == 0
}

test_data_flagged_fires_on_a_flagged_dataset if {
	vs := datasets.violations(with_second({"flagged_for_removal": true, "flag_reason": "consent withdrawn"}), fx.cfg)
	fx.ids(vs) == {"TP-DATA-FLAGGED"}
	fx.mentions(vs, "TP-DATA-FLAGGED", "dataset bureau@2026-09 is flagged for removal: consent withdrawn")
	some v in vs
	v.owner_role == "data-steward"
}

test_data_flagged_fires_without_a_reason if {
	vs := datasets.violations(with_second({"flagged_for_removal": true, "flag_reason": null}), fx.cfg)
	fx.mentions(vs, "TP-DATA-FLAGGED", "flagged for removal: no reason given")
}

test_data_flagged_absent_fires if {
	found(without_second("flagged_for_removal")) == {"TP-DATA-FLAGGED"}
	"TP-DATA-FLAGGED" in found(object.remove(fx.good, ["lineage"]))
}

test_data_flagged_null_fires if {
	vs := datasets.violations(with_second({"flagged_for_removal": null}), fx.cfg)
	fx.ids(vs) == {"TP-DATA-FLAGGED"}
	fx.mentions(vs, "TP-DATA-FLAGGED", "dataset bureau@2026-09 has no removal status (flagged_for_removal is null)")
	"TP-DATA-FLAGGED" in found(with_datasets(null))
}

test_data_flagged_wrong_type_fires if {
	found(with_second({"flagged_for_removal": "no"})) == {"TP-DATA-FLAGGED"}
	found(with_second({"flagged_for_removal": 0})) == {"TP-DATA-FLAGGED"}
	"TP-DATA-FLAGGED" in found(with_datasets({"loans": false}))
	"TP-DATA-FLAGGED" in found(with_datasets([fx.good.lineage.datasets[0], 7]))
}
