"""1,000 concurrent GET /hi against one uvicorn worker with GREET_DELAY=3: wall time.

The load generator is aiohttp (httpx's client is itself the bottleneck at this concurrency on a
small machine). The physical floor is the delay itself: 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(delay: float, db: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "GREET_DELAY": str(delay), "STORE_URL": f"sqlite:///{db}"}
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--backlog",
            "4096",
        ],
        cwd=ROOT,
        env=env,
    )
    return proc, f"http://127.0.0.1:{port}"


async def wait_ready(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(f"{base}/health") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


async def burst(base: str, n: int) -> float:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one() -> str:
            async with session.get(f"{base}/hi") as response:
                response.raise_for_status()
                text: str = await response.json()
                return text

        started = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(n)))
        elapsed = time.perf_counter() - started
    assert results == ["Hello, async FastAPI!"] * n
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start(args.delay, Path(tmp) / "bench.db")
        try:
            asyncio.run(wait_ready(base))
            times = [asyncio.run(burst(base, args.requests)) for _ in range(args.runs)]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(
        f"{args.requests} concurrent GET /hi, delay {args.delay:g} s, one uvicorn worker: "
        f"median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}, "
        f"runs {args.runs}); floor {args.delay:g} s"
    )


if __name__ == "__main__":
    main()
