"""The JWT authorizer of the stack's protected routes, with the app's own verifier."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.identity.exceptions import InsufficientScope, InvalidToken, JWKSUnavailable
from app.identity.jwks import JWKSCache, jwks_cache_for
from app.identity.verifier import JWTVerifier


@dataclass(frozen=True, slots=True)
class Denied:
    """Why a request is refused: 401, or 403 for a valid token without a required scope, and
    the ``www-authenticate`` header API Gateway sends."""

    www_authenticate: str
    status: int = 401


class Authorizer:
    """Checks ``Authorization: Bearer <jwt>`` as API Gateway's HTTP API JWT authorizer does."""

    def __init__(
        self,
        *,
        issuer: str,
        audiences: frozenset[str],
        jwks_url: str | None,
        scopes: frozenset[str] = frozenset(),
    ) -> None:
        self.keys: JWKSCache = jwks_cache_for(issuer, jwks_url)
        self.verifier = JWTVerifier(
            issuer=issuer, audiences=audiences, keys=self.keys, scopes=scopes
        )

    async def authorize(self, authorization: str | None) -> Mapping[str, Any] | Denied:
        """The verified claims, or Denied (→ 401)."""
        if not authorization:
            return Denied("Bearer")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Denied(_invalid("the token is not a bearer token"))
        try:
            verified = await self.verifier.verify(token.strip())
        except InsufficientScope:
            expected = " ".join(sorted(self.verifier.scopes))
            return Denied(
                f'Bearer scope="{expected}" error="insufficient_scope" '
                f'error_description="expected scopes: [{expected}]"',
                status=403,
            )
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
