"""`python -m app.server` reads request framing one way on both of uvicorn's parsers: raw bytes
over real sockets, the exact answers asserted, the same bytes giving the same answer on each
(the table of single byte sequences is ``byte_sequences.py``; here, what needs more than one
send or a look at the store). Pipelined requests are all answered, in order, and a refused one
is answered after them."""

from __future__ import annotations

import json
import os
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.server.limits import ServerLimits
from devtools.ports import free_port
from tests.servers.test_process_lifecycle import ROOT

LIMITS = ServerLimits()
ORDER = json.dumps({"order": [{"product": "latte", "size": "big"}]}).encode()
INVALID = (
    b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 33\r\n"
    b'connection: close\r\n\r\n{"detail":"Invalid HTTP request"}'
)


class Server:
    def __init__(self, parser: str, log: Path, **settings: str) -> None:
        self.port = free_port()
        self.answered = 0.0
        self.log = log
        env = {**os.environ, "STORE_URL": "sqlite:///:memory:", "GREET_DELAY": "0", **settings}
        with log.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
                [sys.executable, "-m", "app.server", "--port", str(self.port), "--http", parser],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("the server did not start")

    def orders(self) -> int:
        listed = httpx.get(f"http://127.0.0.1:{self.port}/orders", params={"limit": 100})
        return len(listed.json()["orders"])

    def talk(self, *parts: bytes, pause: float = 0.3) -> bytes:
        """Send ``parts`` (``pause`` seconds apart), reading all the while, until the server
        closes; what it sent. ``self.answered``: when its last byte arrived."""
        received = b""
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            closed = False

            def read(seconds: float) -> None:
                nonlocal received, closed
                deadline = time.monotonic() + seconds
                while (
                    not closed
                    and select.select([sock], [], [], max(0, deadline - time.monotonic()))[0]
                ):
                    chunk = sock.recv(1 << 16)
                    closed = not chunk
                    received += chunk
                    self.answered = time.monotonic()

            try:
                for i, part in enumerate(parts):
                    read(pause if i else 0)
                    if closed:
                        break
                    sock.sendall(part)
            except BrokenPipeError:
                pass  # the server answered and closed; its answer is read below
            read(20)
        return received


@pytest.fixture(scope="module", params=["httptools", "h11"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    served = Server(request.param, tmp_path_factory.mktemp("log") / "server.log")
    yield served
    served.proc.terminate()
    served.proc.wait(timeout=15)
    log = served.log.read_text()
    assert "Traceback" not in log, log  # nothing the server wrote went wrong


def statuses(raw: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)]


def post(body: bytes = ORDER, *extra: bytes) -> bytes:
    head = [b"POST /orders HTTP/1.1", b"host: t", b"content-type: application/json"]
    head += [b"content-length: %d" % len(body), *extra]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def test_pipelined_requests_are_all_answered_when_a_read_ends_inside_a_head(
    server: Server,
) -> None:
    """The unfinished head is counted, not the chunk: 150 small requests and three of 17 KB
    (each more than the head limit) in one send, a head split after them."""
    padded = ORDER[:-1] + b" " * 17_000 + b"}"
    last = post(ORDER, b"connection: close")
    split = len(last) // 2
    raw = server.talk(post() * 150 + post(padded) * 3 + last[:split], last[split:])
    assert statuses(raw) == [201] * 154
    assert len(set(re.findall(rb'"id":"([0-9a-f-]+)"', raw))) == 154


def test_a_pipelined_oversized_head_is_431_after_the_answers_before_it(server: Server) -> None:
    big = b"GET /health HTTP/1.1\r\nhost: t\r\nx-big: " + b"a" * 20_000 + b"\r\n\r\n"
    raw = server.talk(post() * 3 + big)
    assert statuses(raw) == [201, 201, 201, 431]
    assert raw.endswith(b'connection: close\r\n\r\n{"detail":"Request header fields too large"}')


def chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


def test_content_length_beside_transfer_encoding_is_400_and_nothing_is_smuggled(
    server: Server,
) -> None:
    """RFC 9112 §6.1: such a request may be read two ways; the connection must close."""
    before = server.orders()
    smuggled = b"POST /orders HTTP/1.1\r\nhost: t\r\ncontent-length: %d\r\n\r\n%s" % (
        len(ORDER),
        ORDER,
    )
    head = b"POST /orders HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n"
    head += b"content-length: %d\r\ntransfer-encoding: chunked\r\n\r\n" % len(chunked(b""))
    assert server.talk(head + chunked(b"") + smuggled) == INVALID
    assert server.orders() == before


def test_a_slow_second_head_on_a_kept_alive_connection_is_408(server: Server) -> None:
    first = b"GET /health HTTP/1.1\r\nhost: t\r\n\r\n"
    slow = [b"GET /health HTTP/1.1\r\n", *[b"x-slow: 1\r\n"] * 20]
    started = time.monotonic()
    raw = server.talk(first, *slow, pause=0.5)
    assert statuses(raw) == [200, 408]
    assert raw.endswith(b'{"detail":"Request headers not received in time"}')
    began = started + 0.5  # the second head's first byte
    assert LIMITS.head_timeout <= server.answered - began < LIMITS.head_timeout + 1


def test_two_idempotency_key_lines_are_422_as_through_api_gateway(server: Server) -> None:
    """uvicorn hands on both lines (a route read the first); API Gateway joins them."""
    raw = server.talk(
        post(ORDER, b"idempotency-key: k-a", b"idempotency-key: k-b", b"connection: close")
    )
    assert statuses(raw) == [422]
    assert b'"loc":["header","Idempotency-Key"]' in raw


@pytest.mark.parametrize(("extra", "status"), [(0, 200), (1, 431)])
def test_a_pipelined_head_of_exactly_the_limit_is_served_and_one_byte_more_is_431(
    server: Server, extra: int, status: int
) -> None:
    """The limit counts the head from its request line to its blank line, whatever came
    before it in the same read (here two requests with 17 KB bodies) and however it is split."""
    blank = b"GET /health HTTP/1.1\r\nhost: t\r\nconnection: close\r\nx-pad: \r\n\r\n"
    pad = LIMITS.max_head_bytes + extra - len(blank)
    head = blank.replace(b"x-pad: ", b"x-pad: " + b"a" * pad)
    data = post(ORDER[:-1] + b" " * 17_000 + b"}") * 2 + head
    split = len(data) - len(head) // 2
    assert statuses(server.talk(data[:split], data[split:])) == [201, 201, status]


def test_a_pipelined_head_that_never_ends_is_408_after_the_answers_before_it(
    server: Server,
) -> None:
    raw = server.talk(post() * 3 + b"GET /health HTTP/1.1\r\nhost: t\r\n")
    assert statuses(raw) == [201, 201, 201, 408]
    assert raw.endswith(b'{"detail":"Request headers not received in time"}')


def test_empty_lines_alone_are_timed_as_a_head(server: Server) -> None:
    """Empty lines before a request line are ignored (RFC 9112 §2.2), but they do not hold a
    connection open: a client sending only CRLFs gets 408 when the head timeout runs out."""
    started = time.monotonic()
    raw = server.talk(*[b"\r\n"] * 20, pause=0.5)
    assert statuses(raw) == [408]
    assert raw.endswith(b'{"detail":"Request headers not received in time"}')
    assert LIMITS.head_timeout - 0.001 <= server.answered - started < LIMITS.head_timeout + 1
