"""1,000 concurrent GET /hi with GREET_DELAY=3 against one uvicorn worker: wall time.

Per stack, interleaved: the project's app and a bare ASGI app that only sleeps (context: what
the server and the client cost by themselves). The load generator is aiohttp (httpx's client is
itself the bottleneck at this concurrency on a small machine). The physical floor is 3 s.

Usage: ``python -m bench.greeting [--requests 1000] [--delay 3] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import aiohttp

from bench.server import ORDERS_APP, SLEEP_APP, STACKS, uvicorn
from bench.stats import Figure

SECTION = "1,000 concurrent greetings"


async def burst(url: str, n: int) -> float:
    """Seconds until ``n`` concurrent GETs of ``url`` have all answered the greeting."""
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one() -> str:
            async with session.get(url) as response:
                response.raise_for_status()
                text: str = await response.json()
                return text

        started = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(n)))
        elapsed = time.perf_counter() - started
    assert results == ["Hello, async FastAPI!"] * n
    return elapsed


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
                figure.samples.append(asyncio.run(burst(f"{base}/hi", requests)))
    return [figure for figure, _ in figures]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for figure in run(args.runs, args.requests, args.delay):
        print(
            f"{figure.name:34s} median {figure.median:.2f} s "
            f"(min {figure.low:.2f}, max {figure.high:.2f}, runs {args.runs})"
        )


if __name__ == "__main__":
    main()
