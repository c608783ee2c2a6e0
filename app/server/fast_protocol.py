"""uvicorn's httptools protocol (the ``fast`` extra) with the limits of ``app.server.bounded``.

httptools has no limit on a request head and parses every request of a chunk, pipelined ones
included, in one call. To count the bytes of each head exactly, a chunk is fed in pieces
that end where a head can end (at CRLF CRLF): a head then ends with its piece, and before it,
in that piece, lie only body bytes of the request before it (a chunked body ends at CRLF CRLF
too), which ``on_body`` counts. A head is checked when it completes, before the app sees it,
and an unfinished one after each chunk: at most one read more than the limit is buffered.
Trailer fields are counted the same way (``_framing``, ``_trailers``), then discarded.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.server.framing import (
    INVALID,
    TRAILERS_TOO_LARGE,
    Refusal,
    from_absolute_form,
    head_pieces,
    head_problem,
    oversized,
    request_line_problem,
    trailers_size,
    unpadded_head,
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
        # The request line is checked here (framing.request_line_problem): HTTP/1.2 is served.
        self.parser.set_dangerous_leniencies(lenient_version=True)
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
        self._trailers = 0  # the trailer fields' size (framing.trailers_size)
        self._line = b""  # an unfinished head's bytes before this piece, up to its line's end
        self._refeed = b""  # a head to parse again (see on_headers_complete), then parsed

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.guard = Guard(self.config, self.loop)
        admitted = self.guard.admit(self.server_state, transport)
        super().connection_made(transport)
        if admitted:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.closed(self.transport)
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._at = "head"
        self._began_at = self._body_fed
        self._line = b""

    def on_headers_complete(self) -> None:
        version = self.parser.get_http_version()
        if self._refeed:
            self._refeed = b""  # checked the first time
        else:
            line = self._line_so_far().partition(b"\r\n")[0]
            self._refusal = (
                self._head_size()
                or request_line_problem(line)
                or head_problem(version, self.headers)
            )
            absolute = from_absolute_form(self.url, self.headers)
            if isinstance(absolute, Refusal):
                self._refusal = self._refusal or absolute
            elif absolute is not None:
                self.url, self.headers[:] = absolute
            if self._refusal is not None:
                raise HeadRefused
            if any(n == b"transfer-encoding" and v != v.rstrip(b" \t") for n, v in self.headers):
                # llhttp refuses the optional whitespace RFC 9112 §5.5 allows after "chunked"
                # (a tab): the head is parsed again without it, by a new parser.
                method = self.parser.get_method()
                self._refeed = unpadded_head(method, self.url, version, self.headers)
                raise HeadRefused
        super().on_headers_complete()
        if version not in ("1.0", "1.1"):
            self.scope["http_version"] = "1.1"  # a higher minor version (RFC 9110 §2.5)
        self._at = "body"
        self._head_bytes, self._line_ended = 0, False

    def _line_so_far(self) -> bytes:
        """The head's bytes received up to the end of its request line (all, when it has not
        ended yet), at most the head limit."""
        limit = self.guard.limits.max_head_bytes
        if self._began_at is None:  # the head began in an earlier piece
            return self._line if b"\r\n" in self._line else self._line + self._piece[:limit]
        start = self._began_at
        while self._piece.startswith(b"\r\n", start):  # empty lines before it (RFC 9112 §2.2)
            start += 2
        end = self._piece.find(b"\r\n", start, start + limit)
        return self._piece[start : end + 2 if end >= 0 else start + limit]

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._at != "body":  # uvicorn's on_header, inlined: this is called for every field
            name = name.lower()
            if name == b"expect" and value.lower() == b"100-continue":
                self.expect_100_continue = True
            self.headers.append((name, value))
            return
        # A trailer field: counted, then discarded, never a request header (RFC 9110 §6.5.1).
        self._trailers += trailers_size(((name, value),))
        if self._trailers > self.guard.limits.max_head_bytes:
            self._refusal = TRAILERS_TOO_LARGE
            raise HeadRefused

    def on_chunk_header(self) -> None:
        self._quiet = True

    def on_body(self, body: bytes) -> None:
        self._body_fed += len(body)
        self._quiet, self._framing = False, 0
        super().on_body(body)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._at = "between"
        self._quiet, self._framing, self._trailers = False, 0, 0

    def eof_received(self) -> bool:  # type: ignore[override]  # asyncio's: bool | None
        """The client half-closed (``shutdown(SHUT_WR)``): the requests it sent whole are
        answered, then the connection closes (True keeps the transport open for writing).
        Idle, or in the middle of a request, the connection closes now: the app sees a
        disconnect."""
        if self.guard.answered and not self.guard.pending:
            return False
        if not self.guard.answered and (self._at != "between" or self._idle()):
            return False
        self.guard.half_closed = True  # (or a refusal still waits for the answers before it)
        return True

    def data_received(self, data: bytes) -> None:
        if self.guard.answered or self.transport.is_closing():
            self.guard.dropped()
            return
        for piece in head_pieces(self._tail, data):
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
                self._line = self._line_so_far()
                self._began_at = None
        self._tail = (self._tail + data)[-3:]
        phase: Phase | None = None if self._at == "between" else self._at
        if phase is None and self._idle():  # only empty lines, ignored before a request line
            phase = "head"  # (RFC 9112 §2.2), but timed as the head they precede
        self.guard.expect(phase, self._too_slow)

    def _idle(self) -> bool:
        return not self.pipeline and (self.cycle is None or self.cycle.response_complete)

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
        if self._refeed:
            self.parser = httptools.HttpRequestParser(self)
            self.parser.set_dangerous_leniencies(
                lenient_data_after_close=True, lenient_version=True
            )
            self.parser.feed_data(self._refeed)  # a head that passed every check
            return
        refusal, self._refusal = self._refusal, None
        if refusal is None and self._at != "body":  # llhttp refused the head: which part?
            line, ended, _ = self._line_so_far().partition(b"\r\n")
            refusal = request_line_problem(line, whole=bool(ended))
        self._refuse(refusal or INVALID)

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
