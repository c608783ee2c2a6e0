"""1,000 concurrent GET /hi with GREET_DELAY=3 against one uvicorn worker: wall time.

Per stack, interleaved: the project's app and a bare ASGI app that only sleeps (context: what
the server and the client cost by themselves). The physical floor is 3 s.

The client is the cheapest correct one for this pattern, so that the figure is the server's: one
connection per request on asyncio streams, ``Connection: close`` (the response ends at EOF),
every answer checked, on uvloop when it is installed. The time to open 1,000 connections and
send 1,000 requests is on the critical path; aiohttp's client added 0.15-0.2 s to it here, and
httpx's is slower still.

Usage: ``python -m bench.greeting [--requests 1000] [--delay 3] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Coroutine
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.http.routes.greeting import GREETING
from bench.server import ORDERS_APP, SLEEP_APP, STACKS, uvicorn
from bench.stats import Figure

SECTION = "1,000 concurrent greetings"


async def burst(url: str, n: int) -> float:
    """Seconds until ``n`` concurrent GETs of ``url`` have all answered the greeting."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
    ).encode()

    async def one() -> bytes:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(request)
            return await reader.read()  # Connection: close: the response ends at EOF
        finally:
            writer.close()

    started = time.perf_counter()
    responses = await asyncio.gather(*(one() for _ in range(n)))
    elapsed = time.perf_counter() - started
    for response in responses:
        head, _, body = response.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200 ") or json.loads(body) != GREETING:
            raise RuntimeError(f"unexpected answer: {response[:200]!r}")
    return elapsed


def run_client(coroutine: Coroutine[Any, Any, float]) -> float:
    """Run the client on uvloop when it is installed (the ``fast`` extra), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def run(
    runs: int = 3, requests: int = 1000, delay: float = 3.0, stacks: tuple[str, ...] = tuple(STACKS)
) -> list[Figure]:
    """``runs`` interleaved bursts per variant and stack."""
    figures: list[tuple[Figure, str]] = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as servers:
        env = {"GREET_DELAY": str(delay), "STORE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
               "LOG_LEVEL": "WARNING"}  # fmt: skip
        for stack in stacks:
            ours = servers.enter_context(uvicorn(ORDERS_APP, stack, env))
            bare = servers.enter_context(uvicorn(SLEEP_APP, stack, env))
            figures += [
                (Figure(SECTION, f"orders [{stack}]", "s", note=f"floor {delay:g} s"), ours),
                (Figure(SECTION, f"bare ASGI sleep [{stack}]", "s", note="context"), bare),
            ]
        for _ in range(runs):
            for figure, base in figures:
                figure.samples.append(run_client(burst(f"{base}/hi", requests)))
    return [figure for figure, _ in figures]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.greeting", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--requests", type=int, default=1000, help="concurrent GET /hi (%(default)s)"
    )
    parser.add_argument(
        "--delay", type=float, default=3.0, help="GREET_DELAY, seconds (%(default)g)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per stack (%(default)s)")
    args = parser.parse_args()
    for figure in run(args.runs, args.requests, args.delay):
        print(
            f"{figure.name:34s} median {figure.median:.2f} s "
            f"(min {figure.low:.2f}, max {figure.high:.2f}, runs {args.runs})"
        )


if __name__ == "__main__":
    main()
