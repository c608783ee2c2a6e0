"""An OIDC issuer's signing keys (JWKS), fetched lazily over async HTTP and cached.

PyJWT's own ``PyJWKClient`` fetches with blocking ``urllib``; in an async server that would
stall every request while the keys download, so the fetch is done here with httpx.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt

from app.identity.exceptions import JWKSUnavailable

logger = logging.getLogger("app.auth")

FILE_SCHEME = "file:"


class JWKSCache:
    """Keys by ``kid``. An unknown ``kid`` triggers a refresh, at most once per ``min_refresh``
    seconds, so forged kids cannot make the service hammer the issuer. Without a JWKS URL the
    issuer's OpenID configuration names it, looked up on first use."""

    def __init__(
        self,
        jwks_url: str | None,
        *,
        issuer: str,
        client: httpx.AsyncClient,
        min_refresh: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.jwks_url = jwks_url
        self._issuer = issuer
        self._client = client
        self._min_refresh = min_refresh
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK | None:
        """The key with this ``kid``, refreshing the set once if it is not known yet."""
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys and self._may_refresh():
                await self._refresh()
        return self._keys.get(kid)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _load(self, url: str) -> Any:
        if url.startswith(FILE_SCHEME):  # a local development issuer's key set
            text = await asyncio.to_thread(Path(url.removeprefix(FILE_SCHEME)).read_text)
            return json.loads(text)
        response = await self._client.get(url)
        response.raise_for_status()
        return response.json()

    def _may_refresh(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._min_refresh

    async def _refresh(self) -> None:
        self._fetched_at = self._clock()
        if self.jwks_url is None:
            self.jwks_url = await discover_jwks_url(self._issuer, self._client)
        try:
            document = await self._load(self.jwks_url)
            keys = document["keys"]
        except (httpx.HTTPError, OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("could not fetch JWKS from %s: %s", self.jwks_url, exc)
            raise JWKSUnavailable(str(exc)) from exc
        fresh: dict[str, jwt.PyJWK] = {}
        for entry in keys if isinstance(keys, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
                continue
            if entry.get("use", "sig") != "sig":
                continue
            try:
                fresh[entry["kid"]] = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                logger.warning("skipping unusable JWKS key %r", entry.get("kid"))
        self._keys = fresh


async def discover_jwks_url(issuer: str, client: httpx.AsyncClient) -> str:
    """``jwks_uri`` from the issuer's OpenID configuration document."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = await client.get(url)
        response.raise_for_status()
        jwks_uri = response.json()["jwks_uri"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise JWKSUnavailable(f"OpenID discovery at {url} failed: {exc}") from exc
    if not isinstance(jwks_uri, str):
        raise JWKSUnavailable(f"OpenID discovery at {url}: jwks_uri is not a string")
    return jwks_uri


def jwks_cache_for(issuer: str, jwks_url: str | None = None, *, timeout: float = 5.0) -> JWKSCache:
    """A cache with its own HTTP client (closed by ``JWKSCache.aclose``)."""
    client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False)
    return JWKSCache(jwks_url, issuer=issuer, client=client)
