# Fact documents and helpers for the default bundle's tests.
#
# Tests never use `with`: each rule is a function, called here with a fixture document and a
# configuration. A variation of the fixture is built with json.patch (whose operations must be
# literals: a patch path passed in through a function argument is not supported).
package trustplane.fixtures_test

import rego.v1

current_digest := "sha256:5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"

submitter_id := "pr_trainer"

actor_id := "pr_pipeline"

# cfg is the shipped configuration.
cfg := data.config

# good is a high-risk model version promoted to prod that the default bundle allows.
good := {
	"schema": "trustplane.policy.input/v1",
	"checkpoint": "promote",
	"at": "2026-11-23T10:00:00Z",
	"requester": {"id": "pr_release", "name": "dave", "kind": "user"},
	"model": {
		"id": "mdl_credit",
		"name": "credit-scoring",
		"owner": "risk-analytics",
		"intended_use": "Retail credit decisions for existing customers.",
		"out_of_scope_uses": ["employment screening"],
		"risk_tier": "high",
		"business_unit": "retail",
		"regulatory_tags": ["consumer-duty"],
	},
	"version": {
		"id": "mv_credit_3",
		"version": 3,
		"artifact_digest": current_digest,
		"state": "approved",
		"submitted_by": submitter_id,
		"validated_by": "pr_validator",
		"metrics": {"auc": 0.81},
		"evaluations": [
			{"name": "auc-holdout", "passed": true, "value": 0.81, "threshold": 0.75, "metric": "auc", "group": null},
			{"name": "tpr-female", "passed": true, "value": 0.74, "threshold": null, "metric": "tpr", "group": "female"},
			{"name": "tpr-male", "passed": true, "value": 0.76, "threshold": null, "metric": "tpr", "group": "male"},
		],
		"tags": {},
	},
	"run": {
		"id": "run_train",
		"actor": actor_id,
		"code_repo": "https://git.example.com/risk/credit-scoring",
		"commit_sha": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
		"env_fingerprint": "sha256:abab",
		"parameters": {},
		"metrics": {"auc": 0.81},
	},
	"evidence": {"risk_tier": "high", "required": ["owner", "intended_use"], "missing": []},
	"lineage": {
		"datasets": [
			{
				"id": "dv_loans", "name": "loans", "version": "2026-10", "digest": "sha256:0101",
				"sensitivity": "restricted-personal", "region": "uk",
				"approval_status": "approved", "flagged_for_removal": false, "flag_reason": null,
			},
			{
				"id": "dv_bureau", "name": "bureau", "version": "2026-09", "digest": "sha256:0202",
				"sensitivity": "internal", "region": "eu",
				"approval_status": "approved", "flagged_for_removal": false, "flag_reason": null,
			},
		],
		"features": [
			{
				"id": "fv_income", "name": "income_ratio", "version": "2", "review_status": "approved",
				"deprecated": false, "deprecation_reason": null,
			},
			{
				"id": "fv_tenure", "name": "tenure_months", "version": "1", "review_status": "approved",
				"deprecated": false, "deprecation_reason": null,
			},
		],
	},
	"environment": {"id": "env_prod", "name": "prod", "region": "uk", "sensitivity_ceiling": "restricted-personal"},
	"approvals": [
		{
			"id": "apr_bob", "principal_id": "pr_bob", "principal": "bob", "role": "release-approver",
			"decision": "approve", "artifact_digest": current_digest, "at": "2026-11-23T09:00:00Z",
		},
		{
			"id": "apr_carol", "principal_id": "pr_carol", "principal": "carol", "role": "release-approver",
			"decision": "approve", "artifact_digest": current_digest, "at": "2026-11-23T09:30:00Z",
		},
	],
	"waivers": [],
	"promotion": {"intent": "data refresh", "justification": "Quarterly retrain."},
}

# ids is the set of rule ids among violations vs.
ids(vs) := {v.id | some v in vs}

# messages is the set of messages of rule id among violations vs.
messages(vs, id) := {v.message | some v in vs; v.id == id}

# mentions holds when some message of rule id contains text.
mentions(vs, id, text) if {
	some m in messages(vs, id)
	contains(m, text)
}
