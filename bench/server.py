"""One uvicorn worker in a child process, on the pure-Python stack or uvloop + httptools."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
# The default pure-Python stack, and uvicorn's fast one (the `fast` extra).
STACKS = {
    "asyncio+h11": ("--loop", "asyncio", "--http", "h11"),
    "uvloop+httptools": ("--loop", "uvloop", "--http", "httptools"),
}
ORDERS_APP = ("app.main:create_app", "--factory")
HELLO_APP = ("bench.baselines.hello_fastapi:app",)
SLEEP_APP = ("bench.baselines.sleep_asgi:app", "--lifespan", "off")


@contextmanager
def uvicorn(app: tuple[str, ...], stack: str, env: dict[str, str]) -> Iterator[str]:
    """Serve ``app`` with one worker, access log off; yields the base URL once it answers."""
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "uvicorn", *app, *STACKS[stack], "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log", "--backlog", "4096"],
        cwd=ROOT,
        env={**os.environ, **env},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/hi", timeout=5):  # noqa: S310 - local URL
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("uvicorn did not start")
