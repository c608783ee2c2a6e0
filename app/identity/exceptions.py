"""Authentication errors, importable without the JWT and HTTP libraries."""

from __future__ import annotations


class InvalidToken(Exception):
    """The token is not acceptable. The message is for logs, never for the client."""

    error = "invalid_token"  # its RFC 6750 error code


class InsufficientScope(InvalidToken):
    """A valid token without any of the required scopes (an ID token, say): 403, not 401."""

    error = "insufficient_scope"


class JWKSUnavailable(Exception):
    """The issuer's keys could not be fetched (network, status or format)."""
