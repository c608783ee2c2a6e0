"""Bearer-token authentication: verifying JWTs against an OIDC issuer's published keys."""
