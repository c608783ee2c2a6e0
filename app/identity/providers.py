"""Who is calling: one provider per identity mode, chosen at the composition root.

The routes ask through one dependency, ``app.http.deps.Owner``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from fastapi import Request

from app.identity.exceptions import InvalidToken
from app.identity.subject import subject_error

if TYPE_CHECKING:
    from app.identity.verifier import JWTVerifier

logger = logging.getLogger("app.identity")


class NotAuthenticated(Exception):
    """No acceptable credentials: 401 with a ``WWW-Authenticate`` challenge (RFC 6750)."""

    def __init__(
        self, challenge: str, detail: str = "Not authenticated", status: int = 401
    ) -> None:
        super().__init__(detail)
        self.challenge = challenge
        self.detail = detail
        self.status = status  # 403: authenticated, but the token lacks the required scope


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
            if exc.error == "insufficient_scope":  # a valid token, but not for this API: 403
                scope = " ".join(sorted(self.verifier.scopes))
                challenge = f'Bearer error="insufficient_scope" scope="{scope}"'
                raise NotAuthenticated(challenge, "Insufficient scope", status=403) from None
            raise NotAuthenticated('Bearer error="invalid_token"', "Invalid bearer token") from None
        return verified.subject


def gateway_subject(event: object) -> str | None:
    """The ``sub`` claim API Gateway's authorizer verified, from the Lambda event; else None.

    HTTP API (payload 2.0 and 1.0) JWT authorizers put the claims at
    ``requestContext.authorizer.jwt.claims``; REST API Cognito authorizers (and HTTP API
    payload 1.0) at ``requestContext.authorizer.claims``. Only API Gateway writes
    ``requestContext``: nothing a client sends (headers, body, query) is consulted. The
    subject must pass the rule every mode applies (``app.identity.subject``).
    """
    context = _mapping(_mapping(event).get("requestContext"))
    authorizer = _mapping(context.get("authorizer"))
    for claims in (
        _mapping(_mapping(authorizer.get("jwt")).get("claims")),
        _mapping(authorizer.get("claims")),
    ):
        subject = claims.get("sub")
        if subject_error(subject) is None:
            return str(subject)
    return None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class GatewayIdentity:
    """The caller is the JWT subject API Gateway verified (``IDENTITY_MODE=gateway``).

    Reads the Lambda event Mangum puts in the ASGI scope (``aws.event``). Without verified
    claims (not behind the authorizer, or not on Lambda at all) every protected route is 401.
    """

    # API Gateway's JWT authorizer demands a bearer token on every private route.
    openapi_scheme: ClassVar[dict[str, str]] = JwtIdentity.openapi_scheme

    async def __call__(self, request: Request) -> str:
        subject = gateway_subject(request.scope.get("aws.event"))
        if subject is None:
            raise NotAuthenticated("Bearer", "Not authenticated")
        return subject
