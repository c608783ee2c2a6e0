"""100 warm invocations of one Lambda handler: what ran once, what was reused, what broke.

Importable (``run_check``) and runnable as a script (``python -m tests.lambda_loop_check DIR``,
printing JSON) so the same check runs in-process and under other Python versions.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpcore
from fastapi import FastAPI, Request

from app.aws_lambda.adapter import LambdaAdapter
from app.config import Settings
from app.identity.providers import GatewayIdentity
from app.main import create_app
from app.store import OrderStore, open_store

INVOCATIONS = 100


class RecordingStore:
    """A real store, wrapped: counts opens/closes and notes the loop of every call."""

    def __init__(self, inner: OrderStore) -> None:
        self.inner = inner
        self.opened = 0
        self.closed = 0
        self.loops: set[int] = set()

    def _seen(self) -> None:
        self.loops.add(id(asyncio.get_running_loop()))

    async def open(self) -> None:
        self.opened += 1
        self._seen()
        await self.inner.open()

    async def close(self) -> None:
        self.closed += 1
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        """Every store operation: note the running loop, then delegate."""
        operation = getattr(self.inner, name)

        async def noted(*args: Any, **kwargs: Any) -> Any:
            self._seen()
            return await operation(*args, **kwargs)

        return noted


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client's pooled connection is reused

    def do_GET(self) -> None:
        body = b"pong"
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def client_app() -> FastAPI:
    """An app with one connection pool (what the store talks through) opened at startup and one
    opened lazily by the first request."""
    state: dict[str, Any] = {"startups": 0, "lazy": None}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["startups"] += 1
        async with httpcore.AsyncConnectionPool() as client:
            state["client"] = client
            yield
        if state["lazy"] is not None:
            await state["lazy"].aclose()

    app = FastAPI(lifespan=lifespan)
    app.state.record = state

    @app.get("/ping")
    async def ping(request: Request, url: str) -> dict[str, Any]:
        if state["lazy"] is None:
            state["lazy"] = httpcore.AsyncConnectionPool()
        eager = await state["client"].request("GET", url)
        lazy = await state["lazy"].request("GET", url)
        return {
            "eager": [id(state["client"]), eager.content.decode()],
            "lazy": [id(state["lazy"]), lazy.content.decode()],
            "loop": id(asyncio.get_running_loop()),
        }

    return app


def event(method: str, path: str, query: str = "", sub: str | None = "alice") -> dict[str, Any]:
    """A minimal HTTP API payload 2.0 event."""
    context: dict[str, Any] = {
        "http": {"method": method, "path": path, "sourceIp": "203.0.113.7"},
        "requestId": "r",
        "stage": "$default",
    }
    if sub is not None:
        context["authorizer"] = {"jwt": {"claims": {"sub": sub}}}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "api.example.com", "content-type": "application/json"},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def run_check(directory: Path) -> dict[str, Any]:
    """Serve 100 invocations with the orders app and 100 with the client app; report."""
    store = RecordingStore(open_store(f"sqlite:///{directory / 'loop.db'}"))
    settings = Settings(store_url="sqlite:///unused.db", greet_delay=0, identity_mode="gateway")
    orders = LambdaAdapter(create_app(settings, store=store, identity=GatewayIdentity()))
    statuses = []
    for i in range(INVOCATIONS):
        create = event("POST", "/orders")
        create["body"] = json.dumps({"order": [{"product": f"drink {i}", "size": "small"}]})
        statuses.append(orders(create, None)["statusCode"])
    listed = orders(event("GET", "/orders", "limit=100"), None)
    orders.close()

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    app = client_app()
    clients = LambdaAdapter(app)
    pings = [clients(event("GET", "/ping", f"url={url}"), None) for _ in range(INVOCATIONS)]
    clients.close()
    server.shutdown()
    server.server_close()
    bodies = [json.loads(p["body"]) for p in pings if p["statusCode"] == 200]
    return {
        "python": sys.version.split()[0],
        "store_opened": store.opened,
        "store_closed": store.closed,
        "store_loops": len(store.loops),
        "created": statuses,
        "listed": len(json.loads(listed["body"])["orders"]),
        "app_startups": app.state.record["startups"],
        "ping_statuses": [p["statusCode"] for p in pings],
        "eager_clients": len({tuple(b["eager"]) for b in bodies}),
        "lazy_clients": len({tuple(b["lazy"]) for b in bodies}),
        "loops": len({b["loop"] for b in bodies}),
    }


if __name__ == "__main__":
    print(json.dumps(run_check(Path(sys.argv[1]))))
