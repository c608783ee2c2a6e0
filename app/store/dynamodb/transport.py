"""The store's HTTP: aiodynamo's ``HttpImplementation`` on one httpcore connection pool.

httpcore is the connection layer under httpx (HTTP/1.1 keep-alive through h11, TLS, timeouts,
one pool per process); the store needs nothing of httpx's client on top of it (URL and cookie
models, redirects, content decoding, its CLI), which costs a cold start some 20 ms to import.

Failures keep aiodynamo's contract, which the retry policy classifies
(app/store/dynamodb/errors.py): a timeout of any phase is ``TimeoutError``, any other transport
failure is ``RequestFailed`` around httpcore's own exception.
"""

from __future__ import annotations

import ssl
from typing import Protocol, TypedDict

import httpcore
from aiodynamo.http.types import Request, RequestFailed, Response

# httpcore's failures: one connection's (the request may not have left: NOT_APPLIED) and every
# other way a request can end without an answer (it may have been applied: MAYBE_APPLIED).
ConnectFailed = httpcore.ConnectError
TRANSPORT_FAILURES = (
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
)


class Connections(Protocol):
    """What the transport sends through: ``httpcore.AsyncConnectionPool``, or a stand-in (the
    dry run's table in memory, the tests' fault injector)."""

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response: ...

    async def aclose(self) -> None: ...


class PoolLimits(TypedDict):
    max_connections: int
    max_keepalive_connections: int
    keepalive_expiry: float


# httpx's default limits, which the store had before: every pool of the store has them.
POOL_LIMITS: PoolLimits = {
    "max_connections": 100,
    "max_keepalive_connections": 20,
    "keepalive_expiry": 5.0,
}


def connection_pool(tls: ssl.SSLContext) -> httpcore.AsyncConnectionPool:
    """Keep-alive HTTP/1.1 connections to the endpoint, ``tls`` for HTTPS ones."""
    return httpcore.AsyncConnectionPool(ssl_context=tls, **POOL_LIMITS)


class Transport:
    """Sends aiodynamo's requests through ``connections`` with the given timeouts (seconds)."""

    def __init__(self, connections: Connections, *, connect: float, read: float) -> None:
        self.connections = connections
        # httpcore's per-request timeouts; the pool phase waits as long as a connect may.
        self._timeouts = {"connect": connect, "read": read, "write": read, "pool": connect}

    async def __call__(self, request: Request) -> Response:
        url = httpcore.URL(request.url)
        body = request.body or b""
        # httpcore sends the headers it is given: HTTP/1.1's Host and the body's length too.
        headers: list[tuple[bytes | str, bytes | str]] = [
            (b"Host", _host(url)),
            (b"Content-Length", b"%d" % len(body)),
            *(request.headers or {}).items(),
        ]
        sent = httpcore.Request(
            request.method,
            url,
            headers=headers,
            content=body,
            extensions={"timeout": self._timeouts},
        )
        try:
            response = await self.connections.handle_async_request(sent)
            try:
                answer = await response.aread()
            finally:
                await response.aclose()
        except httpcore.TimeoutException:
            raise TimeoutError() from None
        except TRANSPORT_FAILURES as exc:
            raise RequestFailed(exc) from None
        return Response(response.status, answer)

    async def aclose(self) -> None:
        await self.connections.aclose()


def _host(url: httpcore.URL) -> bytes:
    """The ``Host`` header for ``url`` (HTTP/1.1 requires it): its port only when not the
    scheme's default, as HTTP clients send it."""
    if url.port is None or url.port == _DEFAULT_PORTS.get(url.scheme):
        return url.host
    return b"%s:%d" % (url.host, url.port)


_DEFAULT_PORTS = {b"http": 80, b"https": 443}
