"""Policy as code: Rego bundles, the in-process engine, decisions, approvals and waivers."""
