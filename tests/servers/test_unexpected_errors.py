"""A bug outside what the app expects is the JSON 500 the API promises, on a connection kept.

Starlette's error middleware answers an unexpected exception and then raises it again for the
server to log; uvicorn then closes the keep-alive connection, so the client's next request on it
fails. The app answers such a bug itself, logs it once, and the connection serves on.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.ports import free_port
from tests.support import wait_until_serving

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(params=["h11", "httptools"])
def buggy_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "STORE_URL": f"sqlite:///{tmp_path / 'orders.db'}"}
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tests.broken_app:create_app",
                "--factory",
                "--port",
                str(port),
                "--http",
                request.param,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_serving(f"http://127.0.0.1:{port}", proc)
            yield port, log
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _exchange(sock: socket.socket, path: str) -> tuple[int, dict[str, str], bytes]:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before the answer to {path}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(65536)
        assert chunk, f"connection closed inside the answer to {path}"
        body += chunk
    return int(lines[0].split()[1]), headers, body


def test_a_bug_is_a_json_500_logged_once_and_the_connection_serves_on(
    buggy_server: tuple[int, Path],
) -> None:
    port, log = buggy_server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        status, headers, body = _exchange(sock, "/orders")
        assert status == 500
        assert headers["content-type"] == "application/json"
        assert json.loads(body) == {"detail": "Internal Server Error"}
        assert headers.get("connection", "").lower() != "close"
        status, _, body = _exchange(sock, "/health")  # the same connection, still open
        assert (status, json.loads(body)) == (200, {"status": "ok"})
    text = log.read_text()
    assert text.count("ZeroDivisionError: a bug in the list path") == 1, text
    assert "Exception in ASGI application" not in text, text
