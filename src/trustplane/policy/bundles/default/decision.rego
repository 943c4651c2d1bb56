# The default bundle's decision: which rules the fact document breaks, and whether every one
# of them is waived.
#
# Each rule is a function of the fact document and the configuration (data.config), so tests
# can call it with any document; this package only picks the rules for the checkpoint and
# applies the waivers.
package trustplane.decision

import rego.v1

import data.trustplane.rules.checkpoint
import data.trustplane.rules.common
import data.trustplane.rules.datasets
import data.trustplane.rules.environment
import data.trustplane.rules.evidence
import data.trustplane.rules.fairness
import data.trustplane.rules.features
import data.trustplane.rules.metrics
import data.trustplane.rules.residency
import data.trustplane.rules.risk
import data.trustplane.rules.signoffs
import data.trustplane.rules.state

violations := decide(input, data.config)

allow := verdict(input, violations, data.config)

# decide is the set of violations of fact document f under configuration cfg. At submit only
# the rules about the version itself apply; at any other checkpoint (an unknown one included,
# which TP-CHECKPOINT reports) the release rules apply too.
decide(f, cfg) := {v | some v in everywhere(f, cfg); not v.id in release_only} if {
	f.checkpoint == "submit"
} else := everywhere(f, cfg) | release(f, cfg)

# release_only names the rules about fitness for release rather than the version's
# completeness: a version may be submitted for validation while it still falls short of a
# threshold, a fairness tolerance or a pending dataset approval; they apply from approve on,
# where a waiver for the target environment can cover them.
release_only := {"TP-METRIC-THRESHOLD", "TP-FAIRNESS-GAP", "TP-DATA-UNAPPROVED"}

# allowed is the verdict on fact document f under configuration cfg.
allowed(f, cfg) := verdict(f, decide(f, cfg), cfg)

# everywhere holds the violations of the rules that apply at every checkpoint.
everywhere(f, cfg) := union({
	checkpoint.violations(f, cfg),
	risk.violations(f, cfg),
	state.violations(f, cfg),
	evidence.violations(f, cfg),
	metrics.violations(f, cfg),
	fairness.violations(f, cfg),
	datasets.violations(f, cfg),
	features.violations(f, cfg),
})

# release holds the violations of the rules that apply from approval on.
release(f, cfg) := union({
	residency.violations(f, cfg),
	signoffs.violations(f, cfg),
	environment.violations(f, cfg),
})

# verdict is true only when every violation in vs is waived.
verdict(f, vs, cfg) := count(unwaived(f, vs, cfg)) == 0

# unwaived holds the violations in vs that no usable waiver covers.
unwaived(f, vs, cfg) := {v | some v in vs; not waived(f, v.id, cfg)}

# waived holds when some waiver names rule id and the configuration lets it be waived.
waived(f, id, cfg) if {
	not id in common.array_or_empty(common.get(common.get(cfg, "waivers"), "unwaivable"))
	some w in common.array_or_empty(common.get(f, "waivers"))
	id in common.array_or_empty(common.get(w, "rule_ids"))
}
