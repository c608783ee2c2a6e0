"""Request body size limit as pure ASGI middleware: a JSON 413 before the app sees the body.

Starlette's own ``RequestBodyLimitMiddleware`` answers a declared oversized body with a
plain-text 413; every error of this API is JSON. The body is read up front (it is small by
definition), so the limit also holds for chunked requests that send no Content-Length.
Requests of the methods no route reads a body for (GET, HEAD, OPTIONS) skip the read: only a
declared oversized body is refused, the rest is left unread (buffering it cost each GET a
receive wrapper and a join).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.answers import send_error

BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._reject(send)
            return
        if scope["method"] in BODYLESS_METHODS:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay(message, receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._reject(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay(body, receive), send)

    async def _reject(self, send: Send) -> None:
        detail = f"Request body larger than {self.max_body_bytes} bytes"
        await send_error(send, 413, detail, ("connection", "close"))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(first: Message, receive: Receive) -> Receive:
    """A receive channel that yields ``first`` once, then defers to the real one."""
    pending = [first]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed
