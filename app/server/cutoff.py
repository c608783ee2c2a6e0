"""The app as ``python -m app.server`` serves it: a request the drain cuts off is answered.

When the drain after SIGINT/SIGTERM runs out (``ServerLimits.drain_timeout``), uvicorn cancels
the requests still running: each would get uvicorn's plain-text 500 and leave a traceback. Here
such a request is answered with a JSON 503 and ``Retry-After`` instead, and a one-line warning.
"""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.main import create_app

logger = logging.getLogger("app.server")

CUT_OFF = json.dumps(
    {"detail": "The server stopped before this request finished; retry"}, separators=(",", ":")
)


def served_app() -> ASGIApp:
    """``create_app()`` (settings from the environment), its cut-off requests answered."""
    return answer_cut_off_requests(create_app())


def answer_cut_off_requests(app: ASGIApp) -> ASGIApp:
    async def served(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, receive, tracked)
        except asyncio.CancelledError:
            if started:
                raise
            # Only the server cancels a request, as it stops: nothing awaits this task any more.
            logger.warning("%s %s cut off by the shutdown: 503", scope["method"], scope["path"])
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1")],
                }
            )
            await send({"type": "http.response.body", "body": CUT_OFF.encode()})

    return served
