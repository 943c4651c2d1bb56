package trustplane.decision_test

import rego.v1

import data.trustplane.decision
import data.trustplane.fixtures_test as fx

found(doc) := fx.ids(decision.decide(doc, fx.cfg))

waiver(rule_ids) := {"id": "wv_1", "rule_ids": rule_ids, "expires_at": "2027-01-01T00:00:00Z"}

with_waivers(doc, ws) := object.union(doc, {"waivers": ws})

# waivable: rule id fires on doc and blocks it; waivers naming every violation let it through,
# but not when they leave id out. (Waivers do not change the violations, so the verdict is
# taken over the violations decided once.)
waivable(doc, id) if {
	vs := decision.decide(doc, fx.cfg)
	named := fx.ids(vs)
	id in named
	not decision.verdict(doc, vs, fx.cfg)
	decision.verdict(with_waivers(doc, [waiver([x | some x in named])]), vs, fx.cfg)
	not decision.verdict(with_waivers(doc, [waiver([x | some x in named; x != id])]), vs, fx.cfg)
}

# unwaivable: rule id fires on doc, and even waivers naming every violation leave it blocked.
unwaivable(doc, id) if {
	vs := decision.decide(doc, fx.cfg)
	named := fx.ids(vs)
	id in named
	not decision.verdict(doc, vs, fx.cfg)
	not decision.verdict(with_waivers(doc, [waiver([x | some x in named])]), vs, fx.cfg)
	not decision.allowed(with_waivers(doc, [waiver([x | some x in named])]), fx.cfg)
}

with_fields(key, fields) := object.union(fx.good, {key: object.union(fx.good[key], fields)})

with_datasets(ds) := object.union(fx.good, {"lineage": object.union(fx.good.lineage, {"datasets": ds})})

bob := fx.good.approvals[0]

carol := fx.good.approvals[1]

all_ids := {
	"TP-CHECKPOINT", "TP-RISK-TIER", "TP-STATE-SUSPENDED", "TP-EVIDENCE", "TP-METRIC-MISSING",
	"TP-METRIC-THRESHOLD", "TP-FAIRNESS-MISSING", "TP-FAIRNESS-GAP", "TP-DATA-UNAPPROVED",
	"TP-DATA-FLAGGED", "TP-FEATURE-DEPRECATED", "TP-DATA-RESIDENCY", "TP-SIGNOFF-MISSING",
	"TP-SIGNOFF-SOD", "TP-SIGNOFF-DIGEST", "TP-SIGNOFF-REJECTED", "TP-ENV-TIER",
}

release_ids := {
	"TP-DATA-RESIDENCY", "TP-SIGNOFF-MISSING", "TP-SIGNOFF-SOD", "TP-SIGNOFF-DIGEST",
	"TP-SIGNOFF-REJECTED", "TP-ENV-TIER",
}

# -- the combination ------------------------------------------------------------------------

test_decision_allows_the_good_document if {
	count(decision.decide(fx.good, fx.cfg)) == 0
	decision.allowed(fx.good, fx.cfg) == true
}

test_decision_reports_every_rule_for_an_empty_document if {
	found({}) == all_ids
	decision.allowed({}, fx.cfg) == false
}

test_decision_submit_applies_only_the_version_rules if {
	found({"checkpoint": "submit"}) == all_ids - ((release_ids | decision.release_only) | {"TP-CHECKPOINT"})
	doc := object.union(fx.good, {"checkpoint": "submit", "environment": null, "approvals": [], "promotion": null})
	count(decision.decide(doc, fx.cfg)) == 0
	decision.allowed(doc, fx.cfg)
	found(with_fields("evidence", {"missing": ["owner"]})) == {"TP-EVIDENCE"}
}

test_decision_submit_leaves_release_thresholds_to_later_checkpoints if {
	submit := object.union(fx.good, {"checkpoint": "submit", "environment": null, "approvals": [], "promotion": null})
	low := object.union(submit.version, {"metrics": {"auc": 0.1}})
	count(decision.decide(object.union(submit, {"version": low}), fx.cfg)) == 0
	found(object.union(fx.good, {"version": low})) == {"TP-METRIC-THRESHOLD"}
}

test_decision_approve_promote_and_deploy_apply_every_rule if {
	found(object.union(fx.good, {"checkpoint": "approve", "environment": null})) == {"TP-DATA-RESIDENCY", "TP-ENV-TIER"}
	found(object.union(fx.good, {"checkpoint": "promote", "approvals": []})) == {"TP-SIGNOFF-MISSING"}
	found(object.union(fx.good, {"checkpoint": "deploy", "approvals": null})) == {
		"TP-SIGNOFF-MISSING", "TP-SIGNOFF-SOD", "TP-SIGNOFF-DIGEST", "TP-SIGNOFF-REJECTED",
	}
}

test_decision_unknown_checkpoint_applies_every_rule if {
	found(object.union(fx.good, {"checkpoint": "review", "environment": null})) == {"TP-CHECKPOINT", "TP-DATA-RESIDENCY", "TP-ENV-TIER"}
	found({"checkpoint": "review"}) == all_ids
}

test_decision_violations_are_well_formed if {
	vs := decision.decide({}, fx.cfg)
	count(vs) > count(all_ids)
	every v in vs {
		count(object.keys(v)) == 4
		is_string(v.id)
		is_string(v.message)
		is_string(v.remediation)
		is_string(v.owner_role)
		startswith(v.id, "TP-")
	}
}

test_decision_a_document_that_is_not_an_object_is_denied if {
	"TP-CHECKPOINT" in found(null)
	"TP-CHECKPOINT" in found("promote")
	found([fx.good]) == all_ids
	decision.allowed(null, fx.cfg) == false
	decision.allowed(7, fx.cfg) == false
}

test_decision_allowed_is_always_a_boolean if {
	is_boolean(decision.allowed(fx.good, fx.cfg))
	is_boolean(decision.allowed({}, fx.cfg))
	is_boolean(decision.allowed(null, fx.cfg))
}

# -- waivers --------------------------------------------------------------------------------

test_decision_waivers_may_be_split if {
	doc := with_fields("evidence", {"missing": ["owner"]})
	bad := object.union(doc, {"lineage": object.union(doc.lineage, {"features": null})})
	found(bad) == {"TP-EVIDENCE", "TP-FEATURE-DEPRECATED"}
	decision.allowed(with_waivers(bad, [waiver(["TP-EVIDENCE"]), waiver(["TP-FEATURE-DEPRECATED"])]), fx.cfg)
	not decision.allowed(with_waivers(bad, [waiver(["TP-EVIDENCE"])]), fx.cfg)
}

test_decision_a_waiver_for_another_rule_does_not_help if {
	doc := with_fields("evidence", {"missing": ["owner"]})
	not decision.allowed(with_waivers(doc, [waiver(["TP-FAIRNESS-GAP"])]), fx.cfg)
}

test_decision_malformed_waivers_do_not_count if {
	doc := with_fields("evidence", {"missing": ["owner"]})
	not decision.allowed(object.union(doc, {"waivers": null}), fx.cfg)
	not decision.allowed(object.remove(doc, ["waivers"]), fx.cfg)
	not decision.allowed(object.union(doc, {"waivers": "TP-EVIDENCE"}), fx.cfg)
	not decision.allowed(object.union(doc, {"waivers": {"rule_ids": ["TP-EVIDENCE"]}}), fx.cfg)
	not decision.allowed(with_waivers(doc, [null, "TP-EVIDENCE"]), fx.cfg)
	not decision.allowed(with_waivers(doc, [waiver("TP-EVIDENCE")]), fx.cfg)
	not decision.allowed(with_waivers(doc, [waiver(null)]), fx.cfg)
	not decision.allowed(with_waivers(doc, [{"id": "wv_2", "rule_ids": {"TP-EVIDENCE": true}}]), fx.cfg)
}

test_decision_waivers_are_not_needed_without_violations if {
	decision.allowed(with_waivers(fx.good, [waiver(["TP-EVIDENCE"])]), fx.cfg)
	decision.allowed(object.union(fx.good, {"waivers": null}), fx.cfg)
}

test_decision_the_unwaivable_rules_come_from_the_configuration if {
	doc := with_waivers(object.union(fx.good, {"checkpoint": "review"}), [waiver(["TP-CHECKPOINT"])])
	not decision.allowed(doc, fx.cfg)
	decision.allowed(doc, json.patch(fx.cfg, [{"op": "add", "path": "/waivers/unwaivable", "value": []}]))
	evidence := with_waivers(with_fields("evidence", {"missing": ["owner"]}), [waiver(["TP-EVIDENCE"])])
	decision.allowed(evidence, fx.cfg)
	not decision.allowed(evidence, json.patch(fx.cfg, [{"op": "add", "path": "/waivers/unwaivable", "value": ["TP-EVIDENCE"]}]))
}

# -- each rule, through the decision: waivable or not ---------------------------------------

test_checkpoint_unwaivable if unwaivable(object.union(fx.good, {"checkpoint": "review"}), "TP-CHECKPOINT")

test_risk_tier_unwaivable if unwaivable(with_fields("model", {"risk_tier": "extreme"}), "TP-RISK-TIER")

test_state_suspended_unwaivable if unwaivable(with_fields("version", {"state": "suspended"}), "TP-STATE-SUSPENDED")

test_evidence_waivable if waivable(with_fields("evidence", {"missing": ["owner"]}), "TP-EVIDENCE")

test_metric_missing_waivable if {
	doc := object.union(with_fields("version", {"metrics": {}}), {"run": object.union(fx.good.run, {"metrics": {}})})
	waivable(doc, "TP-METRIC-MISSING")
}

test_metric_threshold_waivable if {
	doc := object.union(with_fields("version", {"metrics": {"auc": 0.7}}), {"run": object.union(fx.good.run, {"metrics": {"auc": 0.7}})})
	found(doc) == {"TP-METRIC-THRESHOLD"}
	waivable(doc, "TP-METRIC-THRESHOLD")
}

test_fairness_missing_waivable if {
	doc := with_fields("version", {"evaluations": [fx.good.version.evaluations[0]]})
	found(doc) == {"TP-FAIRNESS-MISSING"}
	waivable(doc, "TP-FAIRNESS-MISSING")
}

test_fairness_gap_waivable if {
	evs := array.concat(fx.good.version.evaluations, [{"name": "tpr-other", "value": 0.95, "metric": "tpr", "group": "other"}])
	doc := with_fields("version", {"evaluations": evs})
	found(doc) == {"TP-FAIRNESS-GAP"}
	waivable(doc, "TP-FAIRNESS-GAP")
}

test_data_unapproved_waivable if {
	doc := with_datasets([fx.good.lineage.datasets[0], object.union(fx.good.lineage.datasets[1], {"approval_status": "pending"})])
	found(doc) == {"TP-DATA-UNAPPROVED"}
	waivable(doc, "TP-DATA-UNAPPROVED")
}

test_data_flagged_waivable if {
	doc := with_datasets([fx.good.lineage.datasets[0], object.union(fx.good.lineage.datasets[1], {"flagged_for_removal": true})])
	found(doc) == {"TP-DATA-FLAGGED"}
	waivable(doc, "TP-DATA-FLAGGED")
}

test_feature_deprecated_waivable if {
	fs := [object.union(fx.good.lineage.features[0], {"deprecated": true}), fx.good.lineage.features[1]]
	doc := object.union(fx.good, {"lineage": object.union(fx.good.lineage, {"features": fs})})
	found(doc) == {"TP-FEATURE-DEPRECATED"}
	waivable(doc, "TP-FEATURE-DEPRECATED")
}

test_data_residency_waivable if {
	doc := with_fields("environment", {"region": "us"})
	found(doc) == {"TP-DATA-RESIDENCY"}
	waivable(doc, "TP-DATA-RESIDENCY")
}

test_signoff_missing_waivable if {
	doc := object.union(fx.good, {"approvals": [bob]})
	found(doc) == {"TP-SIGNOFF-MISSING"}
	waivable(doc, "TP-SIGNOFF-MISSING")
}

test_signoff_sod_waivable if {
	doc := object.union(fx.good, {"approvals": [bob, carol, object.union(carol, {"id": "apr_self", "principal_id": fx.submitter_id})]})
	found(doc) == {"TP-SIGNOFF-SOD"}
	waivable(doc, "TP-SIGNOFF-SOD")
}

test_signoff_digest_waivable if {
	doc := object.union(fx.good, {"approvals": [bob, carol, object.union(carol, {"id": "apr_old", "artifact_digest": "sha256:old"})]})
	found(doc) == {"TP-SIGNOFF-DIGEST"}
	waivable(doc, "TP-SIGNOFF-DIGEST")
}

test_signoff_rejected_waivable if {
	doc := object.union(fx.good, {"approvals": [bob, carol, object.union(carol, {"id": "apr_erin", "principal_id": "pr_erin", "decision": "reject"})]})
	found(doc) == {"TP-SIGNOFF-REJECTED"}
	waivable(doc, "TP-SIGNOFF-REJECTED")
}

test_env_tier_waivable if {
	doc := with_fields("environment", {"name": null})
	found(doc) == {"TP-ENV-TIER"}
	waivable(doc, "TP-ENV-TIER")
}
