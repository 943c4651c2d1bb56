"""The type URIs of what Trustplane signs, shared by the builder and the offline verifier."""

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://trustplane.dev/evidence/release/v1"
