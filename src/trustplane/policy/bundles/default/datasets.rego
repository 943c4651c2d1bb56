# TP-DATA-UNAPPROVED and TP-DATA-FLAGGED: every dataset version the producing run read is
# approved and not flagged for removal.
package trustplane.rules.datasets

import rego.v1

import data.trustplane.rules.common

violations(f, cfg) := {v |
	not clean(f, cfg)
	some v in unapproved(f) | flagged(f)
}

# clean is a quick check that neither rule fires: every dataset approved and not flagged.
# Evaluation is slow enough per step that the detailed rules only run when it fails.
clean(f, _) if {
	ds := f.lineage.datasets
	is_array(ds)
	count([1 | some d in ds; d.approval_status == "approved"; d.flagged_for_removal == false]) == count(ds)
}

datasets(f) := common.get(common.get(f, "lineage"), "datasets")

unapproved(f) := {v |
	not is_array(datasets(f))
	v := common.violation(
		"TP-DATA-UNAPPROVED",
		sprintf("the datasets the model was trained on are unknown: lineage.datasets is %s", [common.describe(datasets(f))]),
		"Record the producing run's lineage (the dataset versions it read) so their approval can be checked.",
		"data-steward",
	)
} | {v |
	ds := datasets(f)
	is_array(ds)
	some i
	d := ds[i]
	status := common.get(d, "approval_status")
	status != "approved"
	v := common.violation(
		"TP-DATA-UNAPPROVED",
		sprintf("dataset %s is not approved (approval_status %s)", [common.label(d, i), common.describe(status)]),
		sprintf("Have a data steward review and approve dataset %s, or retrain without it.", [common.label(d, i)]),
		"data-steward",
	)
}

flagged(f) := {v |
	not is_array(datasets(f))
	v := common.violation(
		"TP-DATA-FLAGGED",
		sprintf("the datasets the model was trained on are unknown: lineage.datasets is %s", [common.describe(datasets(f))]),
		"Record the producing run's lineage (the dataset versions it read) so removal flags can be checked.",
		"data-steward",
	)
} | {v |
	ds := datasets(f)
	is_array(ds)
	some i
	d := ds[i]
	common.get(d, "flagged_for_removal") == true
	v := common.violation(
		"TP-DATA-FLAGGED",
		sprintf("dataset %s is flagged for removal: %s", [common.label(d, i), reason(common.get(d, "flag_reason"))]),
		sprintf("Retrain without dataset %s (or have the flag cleared by a data steward), then resubmit.", [common.label(d, i)]),
		"data-steward",
	)
} | {v |
	ds := datasets(f)
	is_array(ds)
	some i
	d := ds[i]
	flag := common.get(d, "flagged_for_removal")
	not is_boolean(flag)
	v := common.violation(
		"TP-DATA-FLAGGED",
		sprintf("dataset %s has no removal status (flagged_for_removal is %s)", [common.label(d, i), common.describe(flag)]),
		sprintf("Record whether dataset %s is flagged for removal.", [common.label(d, i)]),
		"data-steward",
	)
}

reason(r) := r if is_string(r)
else := "no reason given"
