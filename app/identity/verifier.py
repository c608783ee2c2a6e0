"""Verifying a bearer JWT: signature, algorithm allow-list, issuer, audience, times, subject."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from app.identity.exceptions import InsufficientScope, InvalidToken
from app.identity.jwks import JWKSCache
from app.identity.subject import subject_error

# Asymmetric algorithms only: "none" and the HMAC family can never be accepted, so a public
# key can never be used as an HMAC secret (the RS/HS confusion attack).
ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
DEFAULT_LEEWAY_SECONDS = 30


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    subject: str
    claims: Mapping[str, Any]


class JWTVerifier:
    """Checks tokens the way API Gateway's JWT authorizer does, plus an algorithm allow-list.

    The audience matches the ``aud`` claim (ID tokens, most OIDC access tokens) or, when a
    token has no ``aud``, its ``client_id`` claim (Cognito access tokens).
    """

    def __init__(
        self,
        *,
        issuer: str,
        audiences: frozenset[str],
        keys: JWKSCache,
        leeway: float = DEFAULT_LEEWAY_SECONDS,
        scopes: frozenset[str] = frozenset(),
    ) -> None:
        if not audiences:
            raise ValueError("at least one audience is required")
        self.issuer = issuer
        self.audiences = audiences
        self.keys = keys
        self.leeway = leeway
        self.scopes = scopes

    async def verify(self, token: str) -> VerifiedToken:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALLOWED_ALGORITHMS:
            raise InvalidToken(f"algorithm {alg!r} is not allowed")
        if not isinstance(kid, str):
            raise InvalidToken("token has no kid")
        key = await self.keys.key(kid)
        if key is None:
            raise InvalidToken(f"unknown kid {kid!r}")
        if key.algorithm_name != alg:
            raise InvalidToken(f"key {kid!r} is for {key.algorithm_name}, token says {alg}")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "sub"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        self._check_audience(claims)
        check_scope(claims, self.scopes)
        subject = claims.get("sub")
        problem = subject_error(subject)
        if problem is not None:
            raise InvalidToken(f"sub {problem}")
        return VerifiedToken(subject=str(subject), claims=claims)

    def _check_audience(self, claims: Mapping[str, Any]) -> None:
        if "aud" in claims:
            aud = claims["aud"]
            presented = (
                {aud} if isinstance(aud, str) else set(aud) if isinstance(aud, list) else set()
            )
        else:
            client_id = claims.get("client_id")
            presented = {client_id} if isinstance(client_id, str) else set()
        if not presented & self.audiences:
            raise InvalidToken("audience does not match")


def check_scope(claims: Mapping[str, Any], required: frozenset[str]) -> None:
    """API Gateway's rule for a route with authorization scopes: the token's ``scope`` (space-
    delimited) or ``scp`` claim must hold at least one of them. No scopes required: any token."""
    if not required:
        return
    granted: set[str] = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            granted |= set(value.split())
        elif isinstance(value, list):
            granted |= {v for v in value if isinstance(v, str)}
    if not granted & required:
        raise InsufficientScope("the token has none of the required scopes")
