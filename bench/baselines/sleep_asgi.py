"""Context: a bare ASGI app that sleeps GREET_DELAY (0: throughput, 3: concurrency), answers."""

from __future__ import annotations

import asyncio
import os

from starlette.types import Receive, Scope, Send

DELAY = float(os.environ.get("GREET_DELAY", "3"))
BODY = b'"Hello, async FastAPI!"'


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await asyncio.sleep(DELAY)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})
