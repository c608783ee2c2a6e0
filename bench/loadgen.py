"""Requests/s against one URL: wrk when installed, else aiohttp clients in worker processes.

wrk (Debian's ``wrk`` package) is a C event loop that needs a fraction of a core for tens of
thousands of requests/s. The aiohttp fallback runs ``PROCESSES`` processes of ``CONNECTIONS``
keep-alive connections each; it is slower, so its figures are a lower bound on the server.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import shutil
import subprocess
import time

CONNECTIONS = 64
PROCESSES = 2


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "aiohttp"


def requests_per_second(url: str, seconds: float) -> float:
    """Sustained requests/s over ``seconds``; every answer must be a 2xx."""
    if generator() == "wrk":
        return _wrk(url, seconds)
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        counts = pool.starmap(
            _aiohttp_worker, [(url, seconds, CONNECTIONS // PROCESSES)] * PROCESSES
        )
    return sum(counts) / seconds


def _wrk(url: str, seconds: float) -> float:
    done = subprocess.run(  # noqa: S603
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{round(seconds)}s", url],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    if "Non-2xx" in done.stdout or "Socket errors" in done.stdout:
        raise RuntimeError(f"errors under load:\n{done.stdout}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if found is None:
        raise RuntimeError(f"unexpected wrk output:\n{done.stdout}")
    return float(found.group(1))


def _aiohttp_worker(url: str, seconds: float, connections: int) -> int:
    return asyncio.run(_aiohttp_load(url, seconds, connections))


async def _aiohttp_load(url: str, seconds: float, connections: int) -> int:
    import aiohttp

    done = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                async with session.get(url) as response:
                    await response.read()
                    response.raise_for_status()
                done += 1

        await asyncio.gather(*(client() for _ in range(connections)))
    return done
