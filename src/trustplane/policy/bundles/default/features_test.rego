package trustplane.rules.features_test

import rego.v1

import data.trustplane.fixtures_test as fx
import data.trustplane.rules.features

found(doc) := fx.ids(features.violations(doc, fx.cfg))

with_features(fs) := object.union(fx.good, {"lineage": object.union(fx.good.lineage, {"features": fs})})

# with_first sets fields of the first feature (income_ratio@2).
with_first(fields) := with_features([object.union(fx.good.lineage.features[0], fields), fx.good.lineage.features[1]])

test_feature_deprecated_passes_when_no_feature_is_deprecated if {
	count(features.violations(fx.good, fx.cfg)) == 0
	count(features.violations(with_features([]), fx.cfg)) == 0
}

test_feature_deprecated_fires_on_a_deprecated_feature if {
	vs := features.violations(with_first({"deprecated": true, "deprecation_reason": "replaced by income_ratio_v3"}), fx.cfg)
	fx.ids(vs) == {"TP-FEATURE-DEPRECATED"}
	fx.mentions(vs, "TP-FEATURE-DEPRECATED", "feature income_ratio@2 is deprecated: replaced by income_ratio_v3")
	some v in vs
	v.owner_role == "feature-engineer"
}

test_feature_deprecated_fires_without_a_reason if {
	vs := features.violations(with_first({"deprecated": true}), fx.cfg)
	fx.mentions(vs, "TP-FEATURE-DEPRECATED", "is deprecated: no reason given")
}

test_feature_deprecated_absent_fires if {
	found(with_features([object.remove(fx.good.lineage.features[0], ["deprecated"])])) == {"TP-FEATURE-DEPRECATED"}
	"TP-FEATURE-DEPRECATED" in found(object.union(fx.good, {"lineage": object.remove(fx.good.lineage, ["features"])}))
	"TP-FEATURE-DEPRECATED" in found(object.remove(fx.good, ["lineage"]))
}

test_feature_deprecated_null_fires if {
	vs := features.violations(with_first({"deprecated": null}), fx.cfg)
	fx.mentions(vs, "TP-FEATURE-DEPRECATED", "feature income_ratio@2 has no deprecation status (deprecated is null)")
	vs2 := features.violations(with_features(null), fx.cfg)
	fx.mentions(vs2, "TP-FEATURE-DEPRECATED", "lineage.features is null")
}

test_feature_deprecated_wrong_type_fires if {
	found(with_first({"deprecated": "yes"})) == {"TP-FEATURE-DEPRECATED"}
	found(with_first({"deprecated": 1})) == {"TP-FEATURE-DEPRECATED"}
	"TP-FEATURE-DEPRECATED" in found(with_features("income_ratio"))
	"TP-FEATURE-DEPRECATED" in found(with_features([["income_ratio", false]]))
}
