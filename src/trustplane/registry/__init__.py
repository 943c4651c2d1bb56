"""The registry: datasets, features, training runs, models and model versions, and the
lifecycle a model version moves through. It is the write side of lineage: the links it
records (what a run read and produced) are the edges the lineage package queries."""
