package trustplane.rules.metrics_test

import rego.v1

import data.trustplane.fixtures_test as fx
import data.trustplane.rules.metrics

metric_ids(doc, cfg) := fx.ids(metrics.violations(doc, cfg))

# with_metrics sets the version's and the run's metrics.
with_metrics(version_metrics, run_metrics) := object.union(fx.good, {
	"version": object.union(fx.good.version, {"metrics": version_metrics}),
	"run": object.union(fx.good.run, {"metrics": run_metrics}),
})

with_tier(doc, t) := object.union(doc, {"model": object.union(doc.model, {"risk_tier": t})})

# override gives credit-scoring its own metric bounds.
override(spec) := json.patch(fx.cfg, [{"op": "add", "path": "/metrics/by_model", "value": {"credit-scoring": spec}}])

no_metrics := object.union(object.remove(fx.good, ["run"]), {"version": object.remove(fx.good.version, ["metrics"])})

test_metric_missing_passes_when_reported if {
	count(metrics.violations(fx.good, fx.cfg)) == 0
}

test_metric_missing_passes_on_the_run_metrics if {
	count(metrics.violations(with_metrics({}, {"auc": 0.9}), fx.cfg)) == 0
	count(metrics.violations(with_metrics(null, {"auc": 0.9}), fx.cfg)) == 0
}

test_metric_missing_passes_when_the_tier_requires_none if {
	count(metrics.violations(with_tier(with_metrics({}, {}), "low"), fx.cfg)) == 0
}

test_metric_missing_fires_when_not_reported if {
	vs := metrics.violations(with_metrics({"ks": 0.4}, {}), fx.cfg)
	"TP-METRIC-MISSING" in fx.ids(vs)
	fx.mentions(vs, "TP-METRIC-MISSING", "metric \"auc\" required for tier high")
	some v in vs
	v.id == "TP-METRIC-MISSING"
	v.owner_role == "trainer"
}

test_metric_missing_fires_for_the_model_override if {
	vs := metrics.violations(fx.good, override({"ks": {"min": 0.3}}))
	fx.mentions(vs, "TP-METRIC-MISSING", "metric \"ks\" required for model \"credit-scoring\"")
	not fx.mentions(vs, "TP-METRIC-MISSING", "\"auc\"")
}

test_metric_missing_fires_at_the_critical_tier_when_the_tier_is_unknown if {
	vs := metrics.violations(with_tier(with_metrics({}, {}), null), fx.cfg)
	fx.mentions(vs, "TP-METRIC-MISSING", "tier critical")
}

test_metric_missing_absent_fires if {
	"TP-METRIC-MISSING" in metric_ids(no_metrics, fx.cfg)
	"TP-METRIC-MISSING" in metric_ids(with_metrics({"ks": 0.4}, {"ks": 0.4}), fx.cfg)
}

test_metric_missing_null_fires if {
	"TP-METRIC-MISSING" in metric_ids(with_metrics({"auc": null}, {"auc": null}), fx.cfg)
	"TP-METRIC-MISSING" in metric_ids(with_metrics(null, null), fx.cfg)
	"TP-METRIC-MISSING" in metric_ids(object.union(fx.good, {"version": null, "run": null}), fx.cfg)
}

test_metric_missing_wrong_type_fires if {
	"TP-METRIC-MISSING" in metric_ids(with_metrics({"auc": "0.81"}, {"auc": true}), fx.cfg)
	"TP-METRIC-MISSING" in metric_ids(with_metrics("auc", ["auc"]), fx.cfg)
	"TP-METRIC-MISSING" in metric_ids(object.union(fx.good, {"version": "mv_credit_3", "run": "run_train"}), fx.cfg)
}

test_metric_threshold_passes_within_bounds if {
	count(metrics.violations(fx.good, fx.cfg)) == 0
	count(metrics.violations(with_metrics({"auc": 0.75}, {}), fx.cfg)) == 0
	count(metrics.violations(with_metrics({"auc": 0.9, "psi": 0.1}, {}), override({"psi": {"max": 0.2}, "auc": {"min": 0.5, "max": 0.95}}))) == 0
}

test_metric_threshold_fires_below_the_minimum if {
	vs := metrics.violations(with_metrics({"auc": 0.7}, {"auc": 0.9}), fx.cfg)
	fx.ids(vs) == {"TP-METRIC-THRESHOLD"}
	fx.mentions(vs, "TP-METRIC-THRESHOLD", "metric \"auc\" is 0.7, below the minimum 0.75 for tier high")
	some v in vs
	v.owner_role == "validator"
}

test_metric_threshold_fires_above_the_maximum if {
	vs := metrics.violations(with_metrics({"psi": 0.35}, {}), override({"psi": {"max": 0.2}}))
	fx.ids(vs) == {"TP-METRIC-THRESHOLD"}
	fx.mentions(vs, "TP-METRIC-THRESHOLD", "metric \"psi\" is 0.35, above the maximum 0.2 for model \"credit-scoring\"")
}

test_metric_threshold_fires_at_the_critical_bound_when_the_tier_is_unknown if {
	vs := metrics.violations(with_tier(with_metrics({"auc": 0.78}, {}), "unknown"), fx.cfg)
	fx.mentions(vs, "TP-METRIC-THRESHOLD", "below the minimum 0.8 for tier critical")
}

test_metric_threshold_absent_fires if {
	vs := metrics.violations(no_metrics, fx.cfg)
	fx.mentions(vs, "TP-METRIC-THRESHOLD", "metric \"auc\" has no numeric value to hold to the min 0.75")
}

test_metric_threshold_null_fires if {
	"TP-METRIC-THRESHOLD" in metric_ids(with_metrics({"auc": null}, {"auc": null}), fx.cfg)
	"TP-METRIC-THRESHOLD" in metric_ids(with_metrics(null, null), fx.cfg)
}

test_metric_threshold_wrong_type_fires if {
	"TP-METRIC-THRESHOLD" in metric_ids(with_metrics({"auc": "0.9"}, {"auc": [0.9]}), fx.cfg)
	"TP-METRIC-THRESHOLD" in metric_ids(with_metrics({"auc": true}, 0.9), fx.cfg)
}
