"""Identity and access: tenants, environments, principals, tokens, OIDC, roles and bindings."""
