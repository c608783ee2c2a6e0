"""Repeated request header lines become one, as API Gateway hands them on: the same request
gets the same answer from every transport.

API Gateway's HTTP API joins repeated lines with commas (payload format 2.0: "Duplicate
headers are combined with commas and included in the headers field"), and so does the local
gateway emulator; uvicorn hands on every line, and a route's ``Header()`` read the first. Here
they are joined the same way before anything reads them (RFC 9110 §5.3 allows it for list
fields, such as ``If-Match``, whose tags then all count); cookies are joined with ``; ``
(RFC 9113 §8.2.3). An ``Idempotency-Key`` is one key, so two of them are a 422.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


def combined(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """One (name, value) pair per name, in the order names first appear."""
    joined: dict[bytes, bytes] = {}
    for name, value in headers:
        if name in joined:
            joined[name] += (b"; " if name == b"cookie" else b",") + value
        else:
            joined[name] = value
    return list(joined.items())


class CombinedHeaderLinesMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope.get("headers", ())
        if scope["type"] != "http" or len({name for name, _ in headers}) == len(headers):
            await self.app(scope, receive, send)
            return
        inner = {**scope, "headers": combined(headers)}  # a copy: the server keeps its own
        try:
            await self.app(inner, receive, send)
        finally:
            if "route" in inner:  # for the per-request log line and metrics
                scope["route"] = inner["route"]
