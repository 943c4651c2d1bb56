"""Evidence: signed release bundles, model cards and the reconstruction of a release."""
