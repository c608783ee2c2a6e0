"""A small HTTP/1.1 client for the timed run: h11 on asyncio streams, one keep-alive pool.

Not httpx, which the harness uses for everything else: measured on this project's 2-core
machine against ``GET /health`` of ``python -m app.server``, httpx's AsyncClient spent about
1 ms of CPU per request sequentially and 3.8 ms per request with 30 connections open at 200
req/s, where this client spends 0.15-0.25 ms (docs/load.md). At a few hundred requests per
second httpx alone would take most of a core, the generator would fall behind its schedule,
and its own queueing would be counted as the target's latency. h11 is the protocol engine
httpcore itself uses, already installed with httpx.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11


class TransportError(Exception):
    """The request got no HTTP answer: refused, reset, timed out or malformed."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    content: bytes


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.h11 = h11.Connection(h11.CLIENT)

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Keep-alive connections to one origin; ``request`` takes an idle one or opens one."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.tls = parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        self.prefix = parts.path.rstrip("/")
        self.authority = parts.netloc
        self.timeout = timeout
        self._ssl = ssl.create_default_context() if self.tls else None
        self._idle: list[_Connection] = []
        self.opened = 0

    async def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        json_body: object | None = None,
    ) -> Answer:
        """Send one request and read the whole answer (``TransportError`` if none came)."""
        body = b"" if json_body is None else json.dumps(json_body).encode()
        fields = [("host", self.authority), *(headers or {}).items()]
        if body or method in ("POST", "PUT", "PATCH"):
            fields.append(("content-length", str(len(body))))
        connection = self._idle.pop() if self._idle else None
        try:
            async with asyncio.timeout(self.timeout):
                if connection is None:
                    connection = await self._open()
                answer = await self._exchange(connection, method, self.prefix + path, fields, body)
        except (OSError, TimeoutError, h11.ProtocolError, EOFError) as exc:
            if connection is not None:
                connection.close()
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        except BaseException:  # cancelled: the connection's state is unknown
            if connection is not None:
                connection.close()
            raise
        if connection.h11.our_state is h11.DONE and connection.h11.their_state is h11.DONE:
            connection.h11.start_next_cycle()
            self._idle.append(connection)
        else:
            connection.close()
        return answer

    async def _open(self) -> _Connection:
        reader, writer = await asyncio.open_connection(
            self.host, self.port, ssl=self._ssl, server_hostname=self.host if self.tls else None
        )
        self.opened += 1
        return _Connection(reader, writer)

    @staticmethod
    async def _exchange(
        connection: _Connection,
        method: str,
        target: str,
        fields: list[tuple[str, str]],
        body: bytes,
    ) -> Answer:
        conn = connection.h11
        data = conn.send(h11.Request(method=method, target=target, headers=fields))
        if body:
            data += conn.send(h11.Data(data=body))
        connection.writer.write(data + conn.send(h11.EndOfMessage()))
        status, headers, chunks = 0, {}, []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                received = await connection.reader.read(65536)
                conn.receive_data(received)
                if not received and conn.their_state is not h11.DONE:
                    # h11 raises RemoteProtocolError on the next call if the answer is cut short
                    continue
            elif isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode().lower(): v.decode("latin-1") for k, v in event.headers}
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return Answer(status, headers, b"".join(chunks))
            elif isinstance(event, h11.ConnectionClosed):
                raise EOFError("the connection closed before the answer ended")

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()

    async def __aenter__(self) -> Pool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
