"""The JWT authorizer of the stack's protected routes, with the app's own verifier."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.auth.errors import InvalidToken, JWKSUnavailable
from app.auth.jwks import JWKSCache, jwks_cache_for
from app.auth.verifier import JWTVerifier


@dataclass(frozen=True, slots=True)
class Denied:
    """Why a request is refused, and the ``www-authenticate`` header API Gateway sends."""

    www_authenticate: str


class Authorizer:
    """Checks ``Authorization: Bearer <jwt>`` as API Gateway's HTTP API JWT authorizer does."""

    def __init__(self, *, issuer: str, audiences: frozenset[str], jwks_url: str | None) -> None:
        self.keys: JWKSCache = jwks_cache_for(issuer, jwks_url)
        self.verifier = JWTVerifier(issuer=issuer, audiences=audiences, keys=self.keys)

    async def authorize(self, authorization: str | None) -> Mapping[str, Any] | Denied:
        """The verified claims, or Denied (→ 401)."""
        if not authorization:
            return Denied("Bearer")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Denied(_invalid("the token is not a bearer token"))
        try:
            verified = await self.verifier.verify(token.strip())
        except InvalidToken as exc:
            return Denied(_invalid(str(exc)))
        except JWKSUnavailable:
            return Denied(_invalid("signing keys unavailable"))
        return verified.claims

    async def aclose(self) -> None:
        await self.keys.aclose()


def _invalid(description: str) -> str:
    # It may quote the token's own kid or alg: a header value must stay printable ASCII.
    description = "".join(c if " " <= c <= "~" else ascii(c)[1:-1] for c in description)
    description = description.replace('"', "'")
    return f'Bearer scope="" error="invalid_token" error_description="{description[:200]}"'
