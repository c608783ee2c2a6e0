"""Who is calling. One dependency (``current_owner``) asks the provider the app was built with."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, ClassVar, Protocol

from fastapi import Depends, Request

from app.auth.errors import InvalidToken

if TYPE_CHECKING:
    from app.auth.verifier import JWTVerifier

logger = logging.getLogger("app.identity")


class NotAuthenticated(Exception):
    """No acceptable credentials: 401 with a ``WWW-Authenticate`` challenge (RFC 6750)."""

    def __init__(self, challenge: str, detail: str = "Not authenticated") -> None:
        super().__init__(detail)
        self.challenge = challenge
        self.detail = detail


class IdentityProvider(Protocol):
    """Turns a request into the owner id that scopes every order operation."""

    async def __call__(self, request: Request) -> str: ...


class DevIdentity:
    """Every caller is the same development user. For local runs only."""

    def __init__(self, owner: str) -> None:
        self.owner = owner

    async def __call__(self, request: Request) -> str:
        return self.owner

    def announce(self) -> None:
        logger.warning(
            "identity mode 'dev': every request acts as the development user %r; "
            "no authentication is performed",
            self.owner,
        )


class JwtIdentity:
    """The ``sub`` of a bearer JWT verified against the configured OIDC issuer."""

    # How the OpenAPI document describes what this provider demands (answered by 401 otherwise).
    openapi_scheme: ClassVar[dict[str, str]] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }

    def __init__(self, verifier: JWTVerifier) -> None:
        self.verifier = verifier

    async def aclose(self) -> None:
        await self.verifier.keys.aclose()

    async def __call__(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not scheme:
            raise NotAuthenticated('Bearer realm="orders"', "Missing bearer token")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated('Bearer error="invalid_request"', "Malformed Authorization")
        try:
            verified = await self.verifier.verify(token.strip())
        except InvalidToken as exc:
            logger.info("rejected bearer token: %s", exc)
            raise NotAuthenticated('Bearer error="invalid_token"', "Invalid bearer token") from None
        return verified.subject


async def current_owner(request: Request) -> str:
    """The caller's owner id, from the provider chosen at the composition root."""
    provider: IdentityProvider = request.app.state.identity
    return await provider(request)


Owner = Annotated[str, Depends(current_owner)]
