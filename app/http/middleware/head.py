"""HEAD wherever GET is served (RFC 9110 §9.3.2), as pure ASGI middleware.

Starlette's own routes add HEAD to every GET route; FastAPI's routes do not, so ``HEAD /health``
was a 405. Declaring HEAD on each route would double the OpenAPI document's operations. Instead
a HEAD request is served as its GET, and the content is left out: the status and every header
field (``Content-Length`` and ``ETag`` included) are the GET's.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_content(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # A copy: servers read the request's method from their own scope while answering
        # (uvicorn sends no body and no chunked framing for HEAD).
        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, without_content)
        finally:
            if "route" in as_get:  # for the server's per-request log line
                scope["route"] = as_get["route"]
