"""uvicorn's httptools protocol (the ``fast`` extra) with the limits of ``app.server.bounded``.

httptools has no limit on a request head and parses every request of a chunk, pipelined ones
included, in one call. To count the bytes of each head exactly, a chunk is fed in pieces
that end where a head can end (at CRLF CRLF): a head then ends with its piece, and before it,
in that piece, lie only body bytes of the request before it (a chunked body ends at CRLF CRLF
too), which ``on_body`` counts. A head is checked when it completes, before the app sees it,
and an unfinished one after each chunk: at most one read more than the limit is buffered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, Literal

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.server.framing import (
    HEAD_END,
    INVALID,
    TRAILERS_TOO_LARGE,
    Refusal,
    head_problem,
    oversized,
)
from app.server.guard import Guard, Phase, too_slow


class HeadRefused(Exception):
    """Raised in a parser callback: httptools stops and uvicorn calls send_400_response."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.guard: Guard  # one per connection, from connection_made on
        # Where the parser is: between requests, in a request's head, or in its body.
        self._at: Literal["between", "head", "body"] = "between"
        self._refusal: Refusal | None = None
        # An unfinished head: its bytes before this piece, and whether its line has ended.
        self._head_bytes = 0
        self._line_ended = False
        self._piece = b""  # the piece being fed
        self._body_fed = 0  # body bytes this piece held, so far
        self._began_at: int | None = None  # where in this piece the head began (None: before)
        self._tail = b""  # the last bytes fed, in case HEAD_END spans two chunks
        # A chunked body: no data since the last chunk header (in the trailer section, or at a
        # chunk's start); the bytes fed meanwhile (chunk lines, trailer fields).
        self._quiet = False
        self._framing = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.guard = Guard(self.config, self.loop)
        admitted = self.guard.admit(self.server_state, transport)
        super().connection_made(transport)
        if admitted:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.closed()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._at = "head"
        self._began_at = self._body_fed

    def on_headers_complete(self) -> None:
        version = self.parser.get_http_version()
        self._refusal = self._head_size() or head_problem(version, self.headers)
        if self._refusal is not None:
            raise HeadRefused
        super().on_headers_complete()
        self._at = "body"
        self._head_bytes, self._line_ended = 0, False

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._at != "body":
            super().on_header(name, value)
        # else a trailer field: discarded, never a request header (RFC 9110 §6.5.1)

    def on_chunk_header(self) -> None:
        self._quiet = True

    def on_body(self, body: bytes) -> None:
        self._body_fed += len(body)
        self._quiet, self._framing = False, 0
        super().on_body(body)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._at = "between"
        self._quiet, self._framing = False, 0

    def eof_received(self) -> bool:  # type: ignore[override]  # asyncio's: bool | None
        """The client half-closed (``shutdown(SHUT_WR)``): the requests it sent whole are
        answered, then the connection closes (True keeps the transport open for writing).
        Idle, or in the middle of a request, the connection closes now: the app sees a
        disconnect."""
        idle = not self.pipeline and (self.cycle is None or self.cycle.response_complete)
        if self.guard.answered or self._at != "between" or idle:
            return False
        self.guard.half_closed = True
        return True

    def data_received(self, data: bytes) -> None:
        if self.guard.answered or self.transport.is_closing():
            return
        for piece in self._pieces(data):
            self._piece, self._body_fed = piece, 0
            super().data_received(piece)
            if self.guard.answered or self.transport.is_closing():
                self.guard.cancel()
                return
            if self._quiet and self._at == "body":  # inside a chunked body's framing
                self._framing += len(piece) - self._body_fed
                if self._framing > self.guard.limits.max_head_bytes:
                    self._refusal = TRAILERS_TOO_LARGE
                    self.send_400_response("")
                    return
            if self._at == "head":  # only the last piece can end inside a head
                self._refusal = self._head_size()
                if self._refusal is not None:
                    self.send_400_response("")
                    return
                self._head_bytes, self._line_ended = self._size_and_line()
                self._began_at = None
        self._tail = (self._tail + data)[-3:]
        phase: Phase | None = None if self._at == "between" else self._at
        self.guard.expect(phase, self._too_slow)

    def _pieces(self, data: bytes) -> Iterator[bytes]:
        start = 0
        spanning = (self._tail + data[:3]).find(HEAD_END)
        if spanning >= 0:
            start = spanning + len(HEAD_END) - len(self._tail)
            yield data[:start]
        while (end := data.find(HEAD_END, start)) >= 0:
            yield data[start : end + len(HEAD_END)]
            start = end + len(HEAD_END)
        if start < len(data):
            yield data[start:]

    def _size_and_line(self) -> tuple[int, bool]:
        """The head's bytes up to the end of this piece; whether its line ended in the limit."""
        if self._began_at is None:
            size, line_ended, start = self._head_bytes, self._line_ended, 0
        else:
            size, line_ended, start = 0, False, self._began_at
        room = max(0, self.guard.limits.max_head_bytes - size)
        line_ended = line_ended or self._piece.find(b"\n", start, start + room) >= 0
        return size + len(self._piece) - start, line_ended

    def _head_size(self) -> Refusal | None:
        return oversized(self.guard.limits.max_head_bytes, *self._size_and_line())

    def on_response_complete(self) -> None:
        queued = bool(self.pipeline)
        super().on_response_complete()
        if not queued:
            self.guard.flush(self.transport)
            if self.guard.half_closed:
                self.transport.close()  # the last whole request is answered

    def _too_slow(self, phase: Phase) -> None:
        self._refuse(too_slow(phase))

    def send_400_response(self, msg: str) -> None:
        refusal, self._refusal = self._refusal or INVALID, None
        self._refuse(refusal)

    def _refuse(self, refusal: Refusal) -> None:
        own = self.cycle if self._at == "body" else None
        if own is not None and self.pipeline and self.pipeline[0][0] is own:
            self.pipeline.popleft()  # never started: the answers before it come first
            behind = True
        else:
            cycle = self.cycle
            behind = bool(self.pipeline) or (
                cycle is not None and cycle is not own and not cycle.response_complete
            )
        self.guard.refuse(self.transport, refusal, own=own, behind=behind)
