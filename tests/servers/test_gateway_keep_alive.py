"""`make gateway` keeps an idle keep-alive connection longer than client pools keep theirs.

A server that closes an idle connection at the moment a client reuses it leaves that request
without a status line: with the server's idle timeout equal to the client pool's (uvicorn's
and httpx's are both 5 s), the server's clock starts first and it closes first. Measured with
40 httpx clients idling around the two timeouts: 90 of 2,400 requests lost with equal timeouts,
0 of 2,400 with the server's longer (docs/local-development.md).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.gateway.server import KEEP_ALIVE_SECONDS
from devtools.ports import free_port
from tests.support import wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
HTTPX_POOL_EXPIRY = httpx.Limits().keepalive_expiry or 0.0  # 5 s, the shortest of common clients'

pytestmark = pytest.mark.slow


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "STORE_URL": f"sqlite:///{tmp_path / 'orders.db'}",
        "GREET_DELAY": "0",
    }
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "devtools.gateway", "--in-process", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _get_hi(sock: socket.socket) -> bytes:
    sock.sendall(b"GET /hi HTTP/1.1\r\nHost: test\r\n\r\n")
    answer = b""
    while not answer.endswith(b'"Hello, async FastAPI!"'):
        chunk = sock.recv(65536)
        assert chunk, "the gateway closed the connection"
        answer += chunk
    return answer


def test_an_idle_connection_outlives_the_client_pools_expiry(gateway: int) -> None:
    assert KEEP_ALIVE_SECONDS > 2 * HTTPX_POOL_EXPIRY
    with socket.create_connection(("127.0.0.1", gateway), timeout=10) as sock:
        assert _get_hi(sock).startswith(b"HTTP/1.1 200")
        time.sleep(HTTPX_POOL_EXPIRY + 0.5)  # idle past uvicorn's default 5 s
        assert _get_hi(sock).startswith(b"HTTP/1.1 200")
