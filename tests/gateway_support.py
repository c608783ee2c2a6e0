"""Serving an ASGI app (the gateway emulator) over real HTTP on a free port, in-process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from devtools import dev_issuer
from devtools.gateway.authorizer import Authorizer


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Run ``app`` with uvicorn on a thread (lifespan included); yield its base URL."""
    # IPPROTO_TCP: only then does asyncio set TCP_NODELAY on accepted connections (with 0,
    # Nagle holds a response's body until the client's delayed ACK, ~40 ms per request).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def dev_authorizer(folder: Path, scopes: frozenset[str] = frozenset()) -> Authorizer:
    """An authorizer trusting a development issuer whose keys live in ``folder`` (and requiring
    one of ``scopes``, if any, as the stack's protected routes do)."""
    dev_issuer.signing_key(folder)
    return Authorizer(
        issuer=dev_issuer.DEV_ISSUER,
        audiences=frozenset({dev_issuer.DEV_AUDIENCE}),
        jwks_url=f"file:{folder / 'jwks.json'}",
        scopes=scopes,
    )
