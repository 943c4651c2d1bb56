# TP-SIGNOFF-MISSING, TP-SIGNOFF-SOD, TP-SIGNOFF-DIGEST and TP-SIGNOFF-REJECTED: enough
# independent sign-offs, bound to the artifact being decided, and no standing rejection.
#
# A sign-off counts when it approves, comes from config.signoffs.role, is bound to
# version.artifact_digest, and its principal is neither the version's submitter nor the
# producing run's actor; distinct principals are counted once.
package trustplane.rules.signoffs

import rego.v1

import data.trustplane.rules.common

violations(f, cfg) := {v |
	not clean(f, cfg)
	c := context(f, cfg)
	some v in ((too_few(c) | sod(c)) | digest_mismatch(c)) | rejected(c)
}

# clean is a quick check that no sign-off rule fires: every sign-off approves the current
# artifact, none comes from the submitter or the trainer, and enough of them count.
clean(f, cfg) if {
	d := f.version.artifact_digest
	is_string(d)
	s := f.version.submitted_by
	is_string(s)
	actor_id := f.run.actor
	is_string(actor_id)
	sigs := f.approvals
	is_array(sigs)
	count([1 |
		some a in sigs
		a.decision == "approve"
		a.artifact_digest == d
		p := a.principal_id
		is_string(p)
		p != s
		p != actor_id
	]) == count(sigs)
	t := f.model.risk_tier
	t in common.tiers
	need := cfg.signoffs.required_by_tier[t]
	is_number(need)
	r := cfg.signoffs.role
	is_string(r)
	count({p |
		some a in sigs
		a.role == r
		p := a.principal_id
	}) >= need
}

# context gathers, once, the facts and settings the detailed rules read.
context(f, cfg) := {
	"approvals": common.get(f, "approvals"),
	"digest": common.get(common.get(f, "version"), "artifact_digest"),
	"submitter": common.get(common.get(f, "version"), "submitted_by"),
	"actor": common.get(common.get(f, "run"), "actor"),
	"role": role(cfg),
	"need": required(f, cfg),
	"tier": common.tier(f),
}

# role is the role whose sign-offs count.
role(cfg) := r if {
	r := common.get(common.get(cfg, "signoffs"), "role")
	is_string(r)
} else := "release-approver"

# required is how many sign-offs the tier needs; 2 (the strictest default) when unset.
required(f, cfg) := n if {
	n := common.get(common.get(common.get(cfg, "signoffs"), "required_by_tier"), common.tier(f))
	is_number(n)
} else := 2

# valid holds the principals whose sign-offs count.
valid(c) := {p |
	d := c.digest
	is_string(d)
	some a in common.array_or_empty(c.approvals)
	a.decision == "approve"
	a.role == c.role
	a.artifact_digest == d
	p := a.principal_id
	is_string(p)
	p != c.submitter
	p != c.actor
}

unknown_approvals(c, id, owner) := {v |
	not is_array(c.approvals)
	v := common.violation(
		id,
		sprintf("the sign-offs are unknown: approvals is %s", [common.describe(c.approvals)]),
		"Pass the version's sign-offs for the target environment (an empty list when there are none).",
		owner,
	)
}

unknown_digest(c, id, owner) := {v |
	not is_string(c.digest)
	v := common.violation(
		id,
		sprintf("the version's artifact digest is %s, so sign-offs cannot be bound to it", [common.describe(c.digest)]),
		"Record the artifact digest of the model version in the registry.",
		owner,
	)
}

too_few(c) := unknown_approvals(c, "TP-SIGNOFF-MISSING", c.role) | {v |
	is_array(c.approvals)
	have := count(valid(c))
	need := c.need
	have < need
	v := common.violation(
		"TP-SIGNOFF-MISSING",
		sprintf("%d more sign-off(s) needed from role \"%s\": %d of %d for tier %s (distinct principals, bound to the current artifact digest, neither its submitter nor its run's actor)", [need - have, c.role, have, need, c.tier]),
		sprintf("Ask %d more %s(s), other than the submitter and the trainer, to sign off this artifact.", [need - have, c.role]),
		c.role,
	)
}

sod(c) := unknown_approvals(c, "TP-SIGNOFF-SOD", "release-approver") | {v |
	not is_string(c.submitter)
	v := common.violation(
		"TP-SIGNOFF-SOD",
		sprintf("the version's submitter is %s, so separation of duties cannot be checked", [common.describe(c.submitter)]),
		"Record who submitted the model version.",
		"release-approver",
	)
} | {v |
	not is_string(c.actor)
	v := common.violation(
		"TP-SIGNOFF-SOD",
		sprintf("the producing run's actor is %s, so separation of duties cannot be checked", [common.describe(c.actor)]),
		"Record the producing run of the version and who ran it.",
		"release-approver",
	)
} | {v |
	sigs := common.array_or_empty(c.approvals)
	some i
	a := sigs[i]
	a.decision == "approve"
	p := common.get(a, "principal_id")
	how := conflict(c, p)
	v := common.violation(
		"TP-SIGNOFF-SOD",
		sprintf("%s signed off a version they %s", [common.who(a, i), how]),
		sprintf("Withdraw the sign-off by %s; an independent release approver must sign off instead.", [common.who(a, i)]),
		"release-approver",
	)
} | {v |
	sigs := common.array_or_empty(c.approvals)
	some i
	a := sigs[i]
	a.decision == "approve"
	p := common.get(a, "principal_id")
	not is_string(p)
	v := common.violation(
		"TP-SIGNOFF-SOD",
		sprintf("the sign-off by %s names no principal (principal_id is %s)", [common.who(a, i), common.describe(p)]),
		"Record who gave each sign-off.",
		"release-approver",
	)
}

# conflict says how principal p is involved in the version, if it is.
conflict(c, p) := "submitted" if {
	is_string(p)
	p == c.submitter
} else := "trained (as the producing run's actor)" if {
	is_string(p)
	p == c.actor
}

digest_mismatch(c) := unknown_approvals(c, "TP-SIGNOFF-DIGEST", "release-approver") | unknown_digest(c, "TP-SIGNOFF-DIGEST", "release-approver") | {v |
	sigs := common.array_or_empty(c.approvals)
	some i
	a := sigs[i]
	not is_object(a)
	v := common.violation(
		"TP-SIGNOFF-DIGEST",
		sprintf("approval #%d is %s, not a sign-off record", [i, common.describe(a)]),
		"Pass each sign-off as an object with its principal, role, decision and artifact digest.",
		"release-approver",
	)
} | {v |
	d := c.digest
	is_string(d)
	sigs := common.array_or_empty(c.approvals)
	some i
	a := sigs[i]
	is_object(a)
	bound := common.get(a, "artifact_digest")
	bound != d
	v := common.violation(
		"TP-SIGNOFF-DIGEST",
		sprintf("the sign-off by %s is bound to artifact %s, not the current artifact \"%s\"", [common.who(a, i), common.describe(bound), d]),
		sprintf("Have %s sign off the current artifact; a sign-off never carries over to a different digest.", [common.who(a, i)]),
		"release-approver",
	)
}

rejected(c) := unknown_approvals(c, "TP-SIGNOFF-REJECTED", "release-approver") | unknown_digest(c, "TP-SIGNOFF-REJECTED", "release-approver") | {v |
	d := c.digest
	is_string(d)
	sigs := common.array_or_empty(c.approvals)
	some i
	a := sigs[i]
	a.decision == "reject"
	a.artifact_digest == d
	v := common.violation(
		"TP-SIGNOFF-REJECTED",
		sprintf("%s rejected the current artifact", [common.who(a, i)]),
		sprintf("Address the objections of %s and submit a new version, or have the rejection withdrawn.", [common.who(a, i)]),
		"release-approver",
	)
} | {v |
	sigs := common.array_or_empty(c.approvals)
	some i
	a := sigs[i]
	is_object(a)
	decision := common.get(a, "decision")
	not decision in {"approve", "reject"}
	v := common.violation(
		"TP-SIGNOFF-REJECTED",
		sprintf("the sign-off by %s has an unknown decision %s", [common.who(a, i), common.describe(decision)]),
		"Record each sign-off's decision as approve or reject.",
		"release-approver",
	)
}
