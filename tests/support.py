"""Test doubles that plug into the app's real seams (no patching of project code)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi import Request

TEST_USER_HEADER = "x-test-user"


class HeaderIdentity:
    """Test identity provider: the caller names itself in a header. Never used by the app."""

    async def __call__(self, request: Request) -> str:
        return request.headers.get(TEST_USER_HEADER, "alice")


def order_body(*products: str, size: str = "small", quantity: int = 1) -> dict[str, object]:
    return {
        "order": [
            {"product": p, "size": size, "quantity": quantity} for p in (products or ("latte",))
        ]
    }


def wait_until_serving(
    base_url: str, process: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float = 60
) -> None:
    """Return once ``GET /health`` answers at ``base_url``; fail if ``process`` exits or
    ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"{base_url}/health", timeout=1)
            return
        except httpx.TransportError:
            assert process.poll() is None, f"the server exited ({process.returncode})"
            assert time.monotonic() < deadline, f"nothing served {base_url} in {timeout} s"
            time.sleep(0.1)


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, theirs...), read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (not gone, not a zombie)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


@contextmanager
def app_server(env: Mapping[str, str]) -> Iterator[str]:
    """``python -m app.server`` (as ``make run`` serves) on a free port with ``env``, from the
    repository root, until it stops: its base URL once ``GET /health`` answers."""
    from devtools.ports import free_port

    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "app.server", "--port", str(port)],
        cwd=Path(__file__).resolve().parents[1],
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base_url, proc)
        yield base_url
    finally:
        proc.terminate()
        proc.wait(timeout=15)
