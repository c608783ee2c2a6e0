"""`python -m app.server` (what `make run` serves with) against hostile clients, on both of
uvicorn's parsers: oversized heads, slow heads and bodies, idle and surplus connections. Each
limit holds while another client is served, and every answer of the server's own is JSON.
The limits are the defaults, but for a smaller connection cap."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.server.guard import DRAINING
from app.server.limits import ServerLimits
from devtools.ports import free_port
from tests.servers.test_process_lifecycle import ROOT

pytestmark = pytest.mark.anyio

LIMITS = ServerLimits()
PARSERS = ["httptools", "h11"]
CAP = 32  # open connections, instead of 1,000: the test opens a few more than that


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float  # from before the connection was opened

    def detail(self) -> object:
        assert self.headers["content-type"] == "application/json"
        return json.loads(self.body)["detail"]


def start(parser: str, *options: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "STORE_URL": "sqlite:///:memory:", "GREET_DELAY": "0"}
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "app.server", "--port", str(port), "--http", parser, *options],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc, port
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


@pytest.fixture(scope="module", params=PARSERS)
def server(request: pytest.FixtureRequest) -> Iterator[int]:
    proc, port = start(request.param, "--max-connections", str(CAP))
    yield port
    proc.terminate()
    proc.wait(timeout=15)


# uvloop's timers run on libuv's loop clock, whole milliseconds read once per loop iteration: a
# timer may fire up to a millisecond before its delay has passed by time.monotonic().
TIMER_CLOCK = 0.001


async def exchange(port: int, *parts: bytes, pause: float = 0.0) -> Answer | None:
    """Send ``parts`` (``pause`` seconds apart) until the server answers; read its answer.
    None: the server closed the connection without one."""
    # The clock starts before the connection exists: the server may start its timer as soon
    # as it accepts, before open_connection returns here.
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answered = asyncio.create_task(reader.read())  # everything up to the server's FIN
    try:
        for i, part in enumerate(parts):
            if i and pause:
                await asyncio.wait([answered], timeout=pause)
            if answered.done():
                break
            writer.write(part)
            await writer.drain()
    except ConnectionError:
        pass  # the server answered and stopped reading
    finally:
        raw = await asyncio.wait_for(answered, 30)
        writer.close()
    if not raw:
        return None
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    return Answer(int(status_line.split()[1]), headers, body, time.monotonic() - started)


@pytest.fixture
async def served_meanwhile(server: int) -> AsyncIterator[list[float]]:
    """A well-behaved client polling GET /health during the test: its latencies."""
    latencies: list[float] = []
    stop = asyncio.Event()

    async def poll() -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server}", timeout=10) as c:
            while not stop.is_set():
                started = time.monotonic()
                assert (await c.get("/health")).status_code == 200
                latencies.append(time.monotonic() - started)
                await asyncio.sleep(0.05)

    task = asyncio.create_task(poll())
    yield latencies
    stop.set()
    await task
    assert latencies  # served while the hostile clients were at it
    assert max(latencies) < 1.0


async def test_an_oversized_head_is_431_and_never_buffered(
    server: int, served_meanwhile: list[float]
) -> None:
    header = b"x-big: " + b"a" * (1 << 20) + b"\r\n"
    request = b"GET /health HTTP/1.1\r\nhost: t\r\n"
    answers = await asyncio.gather(
        *(exchange(server, request, *[header] * 2, b"\r\n") for _ in range(4))
    )
    for answer in answers:
        assert answer is not None
        assert (answer.status, answer.detail()) == (431, "Request header fields too large")
        assert answer.body == b'{"detail":"Request header fields too large"}'  # as the app's
    small = await exchange(server, request, b"connection: close\r\n\r\n")
    assert small is not None
    assert small.status == 200


async def test_a_head_just_under_the_limit_is_served(server: int) -> None:
    request = b"GET /health HTTP/1.1\r\nhost: t\r\nconnection: close\r\n"
    filler = LIMITS.max_head_bytes - len(request) - len(b"x-pad: \r\n\r\n") - 16
    answer = await exchange(server, request, b"x-pad: " + b"a" * filler + b"\r\n\r\n")
    assert answer is not None
    assert answer.status == 200


async def test_a_100_kb_url_is_414_json(server: int) -> None:
    answer = await exchange(server, b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nhost: t\r\n\r\n")
    assert answer is not None
    assert (answer.status, answer.detail()) == (414, "Request line too long")


async def test_a_request_that_is_not_http_is_400_json(server: int) -> None:
    answer = await exchange(server, b"\x16\x03\x01 hello\r\n\r\n")
    assert answer is not None
    assert (answer.status, answer.detail()) == (400, "Invalid HTTP request")


async def test_slow_heads_slow_bodies_and_idle_connections_are_cut_off_in_time(
    server: int, served_meanwhile: list[float]
) -> None:
    head = [b"GET /health HTTP/1.1\r\n", *[b"x-slow: 1\r\n"] * 40, b"\r\n"]
    body_head = (
        b"POST /orders HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n"
        b"content-length: 40\r\n\r\n"
    )
    slow_head, slow_body, idle = await asyncio.gather(
        exchange(server, *head, pause=0.5),  # 20 s to send the whole head
        exchange(server, body_head, *[b" "] * 40, pause=0.5),  # 20 s for the body
        exchange(server),  # connects, sends nothing
    )
    assert slow_head is not None
    assert (slow_head.status, slow_head.detail()) == (408, "Request headers not received in time")
    assert LIMITS.head_timeout - TIMER_CLOCK <= slow_head.seconds < LIMITS.head_timeout + 2
    assert slow_body is not None
    assert (slow_body.status, slow_body.detail()) == (408, "Request body not received in time")
    assert LIMITS.body_timeout - TIMER_CLOCK <= slow_body.seconds < LIMITS.body_timeout + 2
    assert idle is None  # closed without an answer after the idle timeout


async def test_connections_beyond_the_cap_get_503(server: int) -> None:
    opened = [await asyncio.open_connection("127.0.0.1", server) for _ in range(CAP + 8)]
    try:
        answers = await asyncio.gather(
            *(asyncio.wait_for(reader.read(), 1) for reader, _ in opened),
            return_exceptions=True,
        )
        refused = [a for a in answers if isinstance(a, bytes) and a]
        assert len(refused) >= 8  # the others wait for a request, within the cap
        assert all(a.startswith(b"HTTP/1.1 503 Service Unavailable\r\n") for a in refused)
        assert b"retry-after: 1\r\n" in refused[0]
        assert refused[0].endswith(b'{"detail":"Too many open connections; retry later"}')
    finally:
        for _, writer in opened:
            writer.close()
    await serves_once_they_are_gone(server)


async def test_a_refused_request_sent_after_the_answer_is_not_reset(server: int) -> None:
    """Beyond the cap the server answers 503 as soon as it accepts, maybe before the client's
    request arrives. More refused connections than may drain at once (each keeps a file) came
    before and stay open; the newest refusal still takes a draining place: its request, sent
    after the answer in two pieces, is read and dropped, and the client reads the answer to its
    end. (A socket closed with bytes unread resets the connection: the second piece would fail,
    and a reset can take the answer before the client reads it.)"""
    held = [await asyncio.open_connection("127.0.0.1", server) for _ in range(CAP)]
    refused = [await asyncio.open_connection("127.0.0.1", server) for _ in range(DRAINING + 8)]
    try:
        for reader, _ in refused:
            assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 503 ")
        answer = await asyncio.to_thread(late_request, server)
        assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert answer.endswith(b'{"detail":"Too many open connections; retry later"}')
    finally:
        for _, writer in held + refused:
            writer.close()
    await serves_once_they_are_gone(server)


def late_request(port: int) -> bytes:
    """Connect, let the server answer, then send a request in two pieces; read to the end."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        time.sleep(0.3)
        sock.sendall(b"POST /orders HTTP/1.1\r\nhost: t\r\ncontent-length: 2\r\n\r\n")
        time.sleep(0.3)  # a socket closed before the head arrived has reset the connection
        sock.sendall(b"{}")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


async def serves_once_they_are_gone(port: int) -> None:
    """After the test's connections closed, a request is served again."""
    await asyncio.sleep(0.5)
    served = await exchange(port, b"GET /health HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
    assert served is not None
    assert served.status == 200


@pytest.fixture(params=PARSERS)
def under_256_files(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[int, Path, int]]:
    """A server with the default limits, started under `ulimit -n 256`: its port, log and pid."""
    port, log = free_port(), tmp_path / "server.log"
    env = {**os.environ, "STORE_URL": "sqlite:///:memory:", "GREET_DELAY": "0"}
    server = f"{sys.executable} -m app.server --port {port} --http {request.param}"
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            ["/bin/bash", "-c", f"ulimit -n 256 && exec {server}"], cwd=ROOT, env=env, stderr=out
        )
    yield port, log, proc.pid  # bash exec's the server: the same process
    proc.terminate()
    proc.wait(timeout=15)


async def test_the_connection_cap_fits_the_open_file_limit(
    under_256_files: tuple[int, Path, int],
) -> None:
    """Under `ulimit -n 256` the default cap (1,000) is lowered to 256 - 64: connections beyond
    it, and a burst of 100 more while they are held, are each answered 503 (with more
    connections than files they were accepted and dropped without an answer). So is a burst
    whose requests are already waiting when the server accepts them (it was busy: stopped
    here): closing a socket with a request unread would reset it, answer included."""
    port, log, pid = under_256_files
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                await client.get(f"http://127.0.0.1:{port}/health")
                break
            await asyncio.sleep(0.1)
    assert "open files limited to 256 (ulimit -n): serving at most 192 connections" in (
        log.read_text()
    )
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(250)]

    async def answer(reader: asyncio.StreamReader) -> bytes:
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(reader.read(), 0.5)
        return b"(held)"

    answers = await asyncio.gather(*(answer(reader) for reader, _ in held))
    refused = [a for a in answers if a.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")]
    assert answers.count(b"(held)") <= 256 - 64
    assert len(refused) + answers.count(b"(held)") == 250

    async def send() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /health HTTP/1.1\r\nhost: t\r\n\r\n")
        await writer.drain()
        return reader, writer

    async def status_line(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        try:
            return (await asyncio.wait_for(reader.read(), 5)).partition(b"\r\n")[0]
        finally:
            writer.close()

    async def newcomer() -> bytes:
        return await status_line(*await send())

    burst = await asyncio.gather(*(newcomer() for _ in range(100)))
    assert burst == [b"HTTP/1.1 503 Service Unavailable"] * 100
    os.kill(pid, signal.SIGSTOP)
    try:
        waiting = [await send() for _ in range(100)]
    finally:
        os.kill(pid, signal.SIGCONT)
    late = await asyncio.gather(*(status_line(*sent) for sent in waiting))
    assert late == [b"HTTP/1.1 503 Service Unavailable"] * 100
    for _, writer in held:
        writer.close()
    await serves_once_they_are_gone(port)
