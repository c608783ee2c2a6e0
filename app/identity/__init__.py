"""Who is calling: one provider per identity mode, and bearer-JWT verification against an issuer."""
