package trustplane.rules.residency_test

import rego.v1

import data.trustplane.fixtures_test as fx
import data.trustplane.rules.residency

found(doc) := fx.ids(residency.violations(doc, fx.cfg))

with_environment(fields) := object.union(fx.good, {"environment": object.union(fx.good.environment, fields)})

with_datasets(ds) := object.union(fx.good, {"lineage": object.union(fx.good.lineage, {"datasets": ds})})

# with_loans sets fields of the first dataset (loans@2026-10, restricted-personal, from uk).
with_loans(fields) := with_datasets([object.union(fx.good.lineage.datasets[0], fields), fx.good.lineage.datasets[1]])

without_loans(key) := with_datasets([object.remove(fx.good.lineage.datasets[0], [key]), fx.good.lineage.datasets[1]])

test_data_residency_passes_within_the_ceiling_and_region if {
	count(residency.violations(fx.good, fx.cfg)) == 0
	count(residency.violations(with_datasets([]), fx.cfg)) == 0
}

test_data_residency_passes_for_a_region_the_configuration_allows if {
	doc := with_environment({"region": "eu"})
	found(doc) == {"TP-DATA-RESIDENCY"}
	cfg := json.patch(fx.cfg, [{"op": "add", "path": "/residency/allowed_regions/uk", "value": ["uk", "eu"]}])
	count(residency.violations(doc, cfg)) == 0
}

test_data_residency_passes_when_data_from_an_unlisted_region_stays_there if {
	found(with_loans({"region": "ch"})) == {"TP-DATA-RESIDENCY"}
	doc := object.union(with_loans({"region": "ch"}), {"environment": object.union(fx.good.environment, {"region": "ch"})})
	count(residency.violations(doc, fx.cfg)) == 0
}

test_data_residency_fires_above_the_ceiling if {
	vs := residency.violations(with_environment({"sensitivity_ceiling": "internal"}), fx.cfg)
	fx.ids(vs) == {"TP-DATA-RESIDENCY"}
	fx.mentions(vs, "TP-DATA-RESIDENCY", "dataset loans@2026-10 is restricted-personal, above the ceiling internal of environment \"prod\"")
	not fx.mentions(vs, "TP-DATA-RESIDENCY", "bureau")
	some v in vs
	v.owner_role == "data-steward"
}

test_data_residency_fires_outside_the_allowed_regions if {
	vs := residency.violations(with_environment({"region": "us"}), fx.cfg)
	fx.ids(vs) == {"TP-DATA-RESIDENCY"}
	fx.mentions(vs, "TP-DATA-RESIDENCY", "restricted-personal dataset loans@2026-10 from region \"uk\" may not be used in region \"us\" (environment \"prod\"); allowed: uk")
}

test_data_residency_fires_on_an_unknown_sensitivity if {
	vs := residency.violations(with_loans({"sensitivity": "secret"}), fx.cfg)
	fx.mentions(vs, "TP-DATA-RESIDENCY", "dataset loans@2026-10 has an unknown sensitivity \"secret\"")
}

test_data_residency_fires_on_an_unknown_ceiling if {
	vs := residency.violations(with_environment({"sensitivity_ceiling": "top-secret"}), fx.cfg)
	fx.mentions(vs, "TP-DATA-RESIDENCY", "environment \"prod\" has an unknown sensitivity ceiling \"top-secret\"")
}

test_data_residency_absent_fires if {
	vs := residency.violations(object.remove(fx.good, ["environment"]), fx.cfg)
	fx.mentions(vs, "TP-DATA-RESIDENCY", "no target environment (environment is null)")
	found(object.union(fx.good, {"environment": object.remove(fx.good.environment, ["sensitivity_ceiling"])})) == {"TP-DATA-RESIDENCY"}
	found(object.union(fx.good, {"environment": object.remove(fx.good.environment, ["region"])})) == {"TP-DATA-RESIDENCY"}
	found(without_loans("sensitivity")) == {"TP-DATA-RESIDENCY"}
	found(object.remove(fx.good, ["lineage"])) == {"TP-DATA-RESIDENCY"}
}

test_data_residency_absent_region_of_restricted_data_fires if {
	vs := residency.violations(without_loans("region"), fx.cfg)
	fx.mentions(vs, "TP-DATA-RESIDENCY", "from region null may not be used in region \"uk\" (environment \"prod\"); allowed: none")
}

test_data_residency_null_fires if {
	found(object.union(fx.good, {"environment": null})) == {"TP-DATA-RESIDENCY"}
	found(with_environment({"sensitivity_ceiling": null})) == {"TP-DATA-RESIDENCY"}
	found(with_environment({"region": null})) == {"TP-DATA-RESIDENCY"}
	found(with_loans({"sensitivity": null})) == {"TP-DATA-RESIDENCY"}
	found(with_loans({"region": null})) == {"TP-DATA-RESIDENCY"}
	vs := residency.violations(with_datasets(null), fx.cfg)
	fx.mentions(vs, "TP-DATA-RESIDENCY", "lineage.datasets is null")
}

test_data_residency_wrong_type_fires if {
	found(object.union(fx.good, {"environment": "prod"})) == {"TP-DATA-RESIDENCY"}
	found(with_environment({"sensitivity_ceiling": 3})) == {"TP-DATA-RESIDENCY"}
	found(with_environment({"region": ["uk"]})) == {"TP-DATA-RESIDENCY"}
	found(with_loans({"sensitivity": ["restricted-personal"]})) == {"TP-DATA-RESIDENCY"}
	found(with_loans({"region": 44})) == {"TP-DATA-RESIDENCY"}
	found(with_datasets({"loans": "uk"})) == {"TP-DATA-RESIDENCY"}
}
