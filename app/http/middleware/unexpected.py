"""A bug is the JSON 500 the API promises, logged once, and the connection is kept.

Starlette's error middleware answers an unexpected exception and then raises it again for the
server to log; uvicorn then closes the keep-alive connection, and the client's next request on
it fails. This layer (inside the CORS layer, so the 500 carries its headers) answers the bug
itself: one log line with the traceback, a JSON 500, and nothing raised to the server. An error
after the response started cannot be answered any more: it propagates, and the server ends
that response's connection (the only honest end of a half-sent body).
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.answers import send_error

logger = logging.getLogger("app.errors")


class UnexpectedErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = complete = False

        async def tracking_send(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started and not complete:
                raise  # the server logs it and ends the half-sent response
            logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if not started:
                await send_error(send, 500, "Internal Server Error")
