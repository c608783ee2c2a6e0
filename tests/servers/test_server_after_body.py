"""What comes after a request's body, on both of uvicorn's parsers, raw bytes over real sockets:
trailer fields (bounded like a head, never request headers: RFC 9110 §6.5.1) and a client
that half-closes (``shutdown(SHUT_WR)``) after its requests (answered, then closed)."""

from __future__ import annotations

import json
import re
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import dev_issuer
from tests.servers.test_server_framing import ORDER, Server, post, statuses

CHUNKED = (
    b"POST /orders HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n"
    b"transfer-encoding: chunked\r\n"
)


def start(parser: str, folder: Path, **settings: str) -> Iterator[Server]:
    served = Server(parser, folder / "server.log", **settings)
    yield served
    served.proc.terminate()
    served.proc.wait(timeout=15)
    log = served.log.read_text()
    assert "Traceback" not in log, log


@pytest.fixture(scope="module", params=["httptools", "h11"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    yield from start(request.param, tmp_path_factory.mktemp("log"))


def with_trailers(*fields: bytes, head: bytes = CHUNKED, body: bytes = ORDER) -> bytes:
    trailer = b"".join(field + b"\r\n" for field in fields)
    return head + b"\r\n" + b"%x\r\n%s\r\n0\r\n" % (len(body), body) + trailer + b"\r\n"


def half_closed(server: Server, data: bytes, seconds: float = 10) -> tuple[bytes, float]:
    """Send ``data``, shut the socket's sending side, read until the server closes: what it
    sent, and how long after the half-close it closed."""
    received = b""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        shut = time.monotonic()
        while select.select([sock], [], [], seconds)[0]:
            chunk = sock.recv(1 << 16)
            if not chunk:
                return received, time.monotonic() - shut
            received += chunk
    raise AssertionError(f"the server did not close in {seconds} s; it sent {received!r}")


def order_ids(raw: bytes) -> list[bytes]:
    return re.findall(rb'"id":"([0-9a-f-]+)"', raw)


def test_a_request_then_a_half_close_is_answered_then_closed(server: Server) -> None:
    before = server.orders()
    raw, _ = half_closed(server, post())
    assert statuses(raw) == [201]
    assert server.orders() == before + 1
    pipelined, _ = half_closed(server, post() * 3 + b"GET /health HTTP/1.1\r\nhost: t\r\n\r\n")
    assert statuses(pipelined) == [201, 201, 201, 200]
    assert len(set(order_ids(pipelined))) == 3


def test_a_half_close_mid_request_or_while_idle_closes_at_once(server: Server) -> None:
    before = server.orders()
    raw, seconds = half_closed(server, post()[:-5])  # the body is 5 bytes short
    assert (raw, server.orders()) == (b"", before)  # not executed, not answered
    assert seconds < 2
    head_only, seconds = half_closed(server, b"GET /health HTTP/1.1\r\nhost: t\r\n")
    assert head_only == b""
    assert seconds < 2
    idle, seconds = half_closed(server, b"")
    assert idle == b""
    assert seconds < 2  # not the idle timeout (5 s)


def test_a_trailer_idempotency_key_or_if_match_is_not_a_header(server: Server) -> None:
    """Two creates with the same key in a trailer are two orders (no replay); a trailer
    If-Match on a PUT changes nothing (no 412)."""
    key = b"idempotency-key: trailer-%d" % time.monotonic_ns()
    first = server.talk(with_trailers(key, head=CHUNKED + b"connection: close\r\n"))
    second = server.talk(with_trailers(key, head=CHUNKED + b"connection: close\r\n"))
    assert statuses(first + second) == [201, 201]
    assert order_ids(first) != order_ids(second)
    oid = order_ids(first)[0]
    put = b"PUT /orders/%s HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n" % oid
    put += b"transfer-encoding: chunked\r\nconnection: close\r\n"
    updated = server.talk(with_trailers(b'if-match: "99"', head=put))
    assert statuses(updated) == [200]


def test_a_trailer_flood_is_431_and_never_buffered(server: Server) -> None:
    """64 MB of trailer fields offered: the server answers 431 past the head limit (16 KiB),
    closes, and its memory does not grow with what was sent."""
    rss_before = rss(server)
    fields = b"".join(b"x-flood-%06d: %s\r\n" % (i, b"v" * 40) for i in range(20_000))
    head = CHUNKED + b"\r\n" + b"%x\r\n%s\r\n0\r\n" % (len(ORDER), ORDER)
    raw = server.talk(head, *[fields] * 64, pause=0)
    assert statuses(raw) == [431]
    assert raw.endswith(b'connection: close\r\n\r\n{"detail":"Request trailer fields too large"}')
    assert rss(server) - rss_before < 20 * 2**20


def rss(server: Server) -> int:
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


@pytest.fixture(scope="module", params=["httptools", "h11"])
def jwt_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, str]]:
    folder = tmp_path_factory.mktemp("issuer")
    token = dev_issuer.mint("trailer-owner", folder=folder)
    for served in start(request.param, folder, **dev_issuer.env(folder)):
        yield served, token


def test_a_token_only_in_a_trailer_is_401(jwt_server: tuple[Server, str]) -> None:
    """IDENTITY_MODE=jwt: a request whose only Authorization is a trailer field is anonymous."""
    server, token = jwt_server
    sent = with_trailers(b"authorization: Bearer " + token.encode(), head=CHUNKED)
    raw = server.talk(sent.replace(b"chunked\r\n", b"chunked\r\nconnection: close\r\n", 1))
    assert statuses(raw) == [401]
    authorized = post(ORDER, b"authorization: Bearer " + token.encode(), b"connection: close")
    served = server.talk(authorized)
    assert statuses(served) == [201]
    assert json.loads(served.partition(b"\r\n\r\n")[2])["id"]
