"""Lineage: queries over the registry's links (upstream, downstream, impact, completeness) and
OpenLineage ingest, which records what other tools saw through the registry's services."""
