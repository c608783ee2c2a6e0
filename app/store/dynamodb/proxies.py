"""HTTP proxies for the store's connections, from ``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``
and ``NO_PROXY``, read as the standard library, curl and the AWS SDKs read them.

Lambda sets none of them, and then nothing beyond ``os`` is imported here. With one set, each
request goes through the proxy its URL's scheme names (``ALL_PROXY`` otherwise), or directly
when ``NO_PROXY`` lists its host (the credentials endpoint, say). Proxies are reached over
``http://`` or ``https://``, with their ``user:password`` as Basic credentials; HTTPS requests
tunnel through them with ``CONNECT``.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping

import httpcore

from app.store.dynamodb.transport import POOL_LIMITS, Connections

_SCHEMES = ("https", "http", "all")


def proxied(direct: Connections, tls: ssl.SSLContext) -> Connections:
    """``direct``, behind the proxies the environment names (if any)."""
    proxies = proxies_from_environment()
    return ProxiedConnections(direct, proxies, tls) if proxies else direct


def proxies_from_environment() -> dict[str, str]:
    """The proxy variables (lowercase names win, as in ``urllib``): scheme (``https``,
    ``http``, ``all``) -> proxy URL; empty when no proxy is set."""
    names = [name for scheme in _SCHEMES for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY")]
    if not any(os.environ.get(name) for name in names):
        return {}
    import urllib.request  # only behind a proxy: it costs a cold start some milliseconds

    found = urllib.request.getproxies_environment()
    return {key: value for key, value in found.items() if key in _SCHEMES and value}


def proxy_pool(url: str, tls: ssl.SSLContext) -> httpcore.AsyncHTTPProxy:
    """Connections through the proxy at ``url``; ``ValueError`` for a proxy it cannot use."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"proxy {parts.scheme}://{parts.hostname or ''}: the DynamoDB store reaches proxies "
            "over http:// or https:// only; fix HTTPS_PROXY, HTTP_PROXY or ALL_PROXY"
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = f":{parts.port}" if parts.port else ""
    auth = None
    if parts.username is not None:
        auth = (unquote(parts.username), unquote(parts.password or ""))
    return httpcore.AsyncHTTPProxy(
        proxy_url=f"{parts.scheme}://{host}{port}",
        proxy_auth=auth,
        ssl_context=tls,
        proxy_ssl_context=tls if parts.scheme == "https" else None,
        **POOL_LIMITS,
    )


class ProxiedConnections:
    """Sends each request through the proxy for its scheme, or ``direct`` when there is none or
    ``NO_PROXY`` names the request's host."""

    def __init__(
        self, direct: Connections, proxies: Mapping[str, str], tls: ssl.SSLContext
    ) -> None:
        import urllib.request

        self._direct = direct
        self._via = {s: proxy_pool(proxies[s], tls) for s in _SCHEMES if s in proxies}
        self._bypass = urllib.request.proxy_bypass  # NO_PROXY, as urllib reads it

    def route(self, url: httpcore.URL) -> Connections:
        """Where a request to ``url`` goes."""
        host = url.host.decode("ascii")
        if url.port is not None:
            host = f"{host}:{url.port}"
        scheme = url.scheme.decode("ascii")
        via = self._via.get(scheme) or self._via.get("all")
        if via is None or self._bypass(host):
            return self._direct
        return via

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        return await self.route(request.url).handle_async_request(request)

    async def aclose(self) -> None:
        for connections in (*self._via.values(), self._direct):
            await connections.aclose()
