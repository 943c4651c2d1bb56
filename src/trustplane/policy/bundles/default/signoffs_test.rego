package trustplane.rules.signoffs_test

import rego.v1

import data.trustplane.fixtures_test as fx
import data.trustplane.rules.signoffs

found(doc) := fx.ids(signoffs.violations(doc, fx.cfg))

bob := fx.good.approvals[0]

carol := fx.good.approvals[1]

with_approvals(list) := object.union(fx.good, {"approvals": list})

# with_carol replaces fields of carol's sign-off.
with_carol(fields) := with_approvals([bob, object.union(carol, fields)])

with_version(fields) := object.union(fx.good, {"version": object.union(fx.good.version, fields)})

with_tier(doc, t) := object.union(doc, {"model": object.union(doc.model, {"risk_tier": t})})

erin_rejects := {
	"id": "apr_erin", "principal_id": "pr_erin", "principal": "erin", "role": "release-approver",
	"decision": "reject", "artifact_digest": fx.current_digest, "at": "2026-11-23T09:45:00Z",
}

test_signoff_missing_passes_with_two_independent_signoffs if {
	count(signoffs.violations(fx.good, fx.cfg)) == 0
}

test_signoff_missing_passes_with_one_signoff_for_a_low_tier if {
	count(signoffs.violations(with_tier(with_approvals([bob]), "low"), fx.cfg)) == 0
}

test_signoff_missing_fires_with_one_signoff if {
	vs := signoffs.violations(with_approvals([bob]), fx.cfg)
	fx.ids(vs) == {"TP-SIGNOFF-MISSING"}
	fx.mentions(vs, "TP-SIGNOFF-MISSING", "1 more sign-off(s) needed from role \"release-approver\": 1 of 2 for tier high")
	some v in vs
	v.owner_role == "release-approver"
}

test_signoff_missing_fires_when_one_principal_signs_twice if {
	found(with_carol({"id": "apr_bob_again", "principal_id": "pr_bob", "principal": "bob"})) == {"TP-SIGNOFF-MISSING"}
}

test_signoff_missing_fires_for_a_signoff_in_another_role if {
	found(with_carol({"role": "validator"})) == {"TP-SIGNOFF-MISSING"}
}

test_signoff_missing_fires_for_a_signoff_of_another_artifact if {
	found(with_carol({"artifact_digest": "sha256:old"})) == {"TP-SIGNOFF-MISSING", "TP-SIGNOFF-DIGEST"}
}

test_signoff_missing_fires_for_the_submitter_and_the_trainer if {
	"TP-SIGNOFF-MISSING" in found(with_carol({"principal_id": fx.submitter_id}))
	"TP-SIGNOFF-MISSING" in found(with_carol({"principal_id": fx.actor_id}))
}

test_signoff_missing_fires_for_a_rejection if {
	"TP-SIGNOFF-MISSING" in found(with_carol({"decision": "reject"}))
}

test_signoff_missing_fires_for_the_configured_role if {
	cfg := json.patch(fx.cfg, [{"op": "add", "path": "/signoffs/role", "value": "model-risk-approver"}])
	vs := signoffs.violations(fx.good, cfg)
	fx.mentions(vs, "TP-SIGNOFF-MISSING", "2 more sign-off(s) needed from role \"model-risk-approver\": 0 of 2")
	some v in vs
	v.owner_role == "model-risk-approver"
}

test_signoff_missing_fires_for_the_configured_count if {
	cfg := json.patch(fx.cfg, [{"op": "add", "path": "/signoffs/required_by_tier/high", "value": 3}])
	vs := signoffs.violations(fx.good, cfg)
	fx.mentions(vs, "TP-SIGNOFF-MISSING", "1 more sign-off(s) needed from role \"release-approver\": 2 of 3 for tier high")
}

test_signoff_missing_absent_fires if {
	vs := signoffs.violations(object.remove(fx.good, ["approvals"]), fx.cfg)
	fx.mentions(vs, "TP-SIGNOFF-MISSING", "the sign-offs are unknown: approvals is null")
	vs2 := signoffs.violations(with_approvals([]), fx.cfg)
	fx.mentions(vs2, "TP-SIGNOFF-MISSING", "2 more sign-off(s) needed")
	"TP-SIGNOFF-MISSING" in found(with_carol({"principal_id": null, "artifact_digest": fx.current_digest}))
}

test_signoff_missing_null_fires if {
	"TP-SIGNOFF-MISSING" in found(with_approvals(null))
	"TP-SIGNOFF-MISSING" in found(with_version({"artifact_digest": null}))
}

test_signoff_missing_wrong_type_fires if {
	"TP-SIGNOFF-MISSING" in found(with_approvals("bob, carol"))
	"TP-SIGNOFF-MISSING" in found(with_approvals({"bob": true, "carol": true}))
	"TP-SIGNOFF-MISSING" in found(with_carol({"principal_id": 7}))
}

test_signoff_sod_passes_for_independent_approvers if {
	count(signoffs.violations(fx.good, fx.cfg)) == 0
}

test_signoff_sod_passes_for_a_rejection_by_the_submitter if {
	doc := with_approvals([bob, carol, object.union(erin_rejects, {"principal_id": fx.submitter_id})])
	not "TP-SIGNOFF-SOD" in found(doc)
}

test_signoff_sod_fires_when_the_submitter_approves if {
	vs := signoffs.violations(with_carol({"principal_id": fx.submitter_id}), fx.cfg)
	"TP-SIGNOFF-SOD" in fx.ids(vs)
	fx.mentions(vs, "TP-SIGNOFF-SOD", "carol signed off a version they submitted")
	some v in vs
	v.id == "TP-SIGNOFF-SOD"
	v.owner_role == "release-approver"
}

test_signoff_sod_fires_when_the_run_actor_approves if {
	vs := signoffs.violations(with_carol({"principal_id": fx.actor_id}), fx.cfg)
	fx.mentions(vs, "TP-SIGNOFF-SOD", "carol signed off a version they trained (as the producing run's actor)")
}

test_signoff_sod_absent_fires if {
	vs := signoffs.violations(object.union(fx.good, {"version": object.remove(fx.good.version, ["submitted_by"])}), fx.cfg)
	fx.ids(vs) == {"TP-SIGNOFF-SOD"}
	fx.mentions(vs, "TP-SIGNOFF-SOD", "the version's submitter is null, so separation of duties cannot be checked")
	vs2 := signoffs.violations(object.remove(fx.good, ["run"]), fx.cfg)
	fx.ids(vs2) == {"TP-SIGNOFF-SOD"}
	fx.mentions(vs2, "TP-SIGNOFF-SOD", "the producing run's actor is null")
	"TP-SIGNOFF-SOD" in found(object.remove(fx.good, ["approvals"]))
	"TP-SIGNOFF-SOD" in found(with_approvals([bob, object.remove(carol, ["principal_id"])]))
}

test_signoff_sod_null_fires if {
	found(with_version({"submitted_by": null})) == {"TP-SIGNOFF-SOD"}
	found(object.union(fx.good, {"run": null})) == {"TP-SIGNOFF-SOD"}
	"TP-SIGNOFF-SOD" in found(with_approvals(null))
	vs := signoffs.violations(with_carol({"principal_id": null}), fx.cfg)
	fx.mentions(vs, "TP-SIGNOFF-SOD", "the sign-off by carol names no principal (principal_id is null)")
}

test_signoff_sod_wrong_type_fires if {
	found(with_version({"submitted_by": 1})) == {"TP-SIGNOFF-SOD"}
	found(object.union(fx.good, {"run": "run_train"})) == {"TP-SIGNOFF-SOD"}
	"TP-SIGNOFF-SOD" in found(with_approvals(true))
	"TP-SIGNOFF-SOD" in found(with_carol({"principal_id": ["pr_carol"]}))
}

test_signoff_digest_passes_when_every_signoff_is_bound_to_the_artifact if {
	count(signoffs.violations(fx.good, fx.cfg)) == 0
}

test_signoff_digest_fires_for_a_signoff_of_another_artifact if {
	vs := signoffs.violations(with_approvals([bob, carol, object.union(carol, {"id": "apr_carol_old", "artifact_digest": "sha256:old"})]), fx.cfg)
	fx.ids(vs) == {"TP-SIGNOFF-DIGEST"}
	fx.mentions(vs, "TP-SIGNOFF-DIGEST", "the sign-off by carol is bound to artifact \"sha256:old\", not the current artifact")
	some v in vs
	v.owner_role == "release-approver"
}

test_signoff_digest_fires_for_a_rejection_of_another_artifact if {
	"TP-SIGNOFF-DIGEST" in found(with_approvals([bob, carol, object.union(erin_rejects, {"artifact_digest": "sha256:old"})]))
}

test_signoff_digest_absent_fires if {
	vs := signoffs.violations(object.union(fx.good, {"version": object.remove(fx.good.version, ["artifact_digest"])}), fx.cfg)
	fx.mentions(vs, "TP-SIGNOFF-DIGEST", "the version's artifact digest is null, so sign-offs cannot be bound to it")
	"TP-SIGNOFF-DIGEST" in found(with_approvals([bob, object.remove(carol, ["artifact_digest"])]))
	"TP-SIGNOFF-DIGEST" in found(object.remove(fx.good, ["approvals"]))
}

test_signoff_digest_null_fires if {
	"TP-SIGNOFF-DIGEST" in found(with_version({"artifact_digest": null}))
	"TP-SIGNOFF-DIGEST" in found(with_carol({"artifact_digest": null}))
	"TP-SIGNOFF-DIGEST" in found(with_approvals(null))
	vs := signoffs.violations(with_approvals([bob, carol, null]), fx.cfg)
	fx.mentions(vs, "TP-SIGNOFF-DIGEST", "approval #2 is null, not a sign-off record")
}

test_signoff_digest_wrong_type_fires if {
	"TP-SIGNOFF-DIGEST" in found(with_version({"artifact_digest": 5}))
	"TP-SIGNOFF-DIGEST" in found(with_carol({"artifact_digest": [fx.current_digest]}))
	"TP-SIGNOFF-DIGEST" in found(with_approvals([bob, carol, "dave"]))
	"TP-SIGNOFF-DIGEST" in found(with_approvals(3))
}

test_signoff_rejected_passes_without_a_rejection if {
	count(signoffs.violations(fx.good, fx.cfg)) == 0
	not "TP-SIGNOFF-REJECTED" in found(with_approvals([bob, carol, object.union(erin_rejects, {"artifact_digest": "sha256:old"})]))
}

test_signoff_rejected_fires_for_a_rejection_of_the_artifact if {
	vs := signoffs.violations(with_approvals([bob, carol, erin_rejects]), fx.cfg)
	fx.ids(vs) == {"TP-SIGNOFF-REJECTED"}
	fx.mentions(vs, "TP-SIGNOFF-REJECTED", "erin rejected the current artifact")
	some v in vs
	v.owner_role == "release-approver"
}

test_signoff_rejected_fires_for_an_unknown_decision if {
	vs := signoffs.violations(with_carol({"decision": "abstain"}), fx.cfg)
	fx.mentions(vs, "TP-SIGNOFF-REJECTED", "the sign-off by carol has an unknown decision \"abstain\"")
}

test_signoff_rejected_absent_fires if {
	"TP-SIGNOFF-REJECTED" in found(with_approvals([bob, object.remove(carol, ["decision"])]))
	"TP-SIGNOFF-REJECTED" in found(object.remove(fx.good, ["approvals"]))
	"TP-SIGNOFF-REJECTED" in found(object.union(fx.good, {"version": object.remove(fx.good.version, ["artifact_digest"])}))
}

test_signoff_rejected_null_fires if {
	vs := signoffs.violations(with_carol({"decision": null}), fx.cfg)
	fx.mentions(vs, "TP-SIGNOFF-REJECTED", "has an unknown decision null")
	"TP-SIGNOFF-REJECTED" in found(with_approvals(null))
	"TP-SIGNOFF-REJECTED" in found(with_version({"artifact_digest": null}))
}

test_signoff_rejected_wrong_type_fires if {
	"TP-SIGNOFF-REJECTED" in found(with_carol({"decision": true}))
	"TP-SIGNOFF-REJECTED" in found(with_carol({"decision": ["approve"]}))
	"TP-SIGNOFF-REJECTED" in found(with_approvals("erin rejected"))
	"TP-SIGNOFF-REJECTED" in found(with_version({"artifact_digest": {"sha256": "5e"}}))
}
