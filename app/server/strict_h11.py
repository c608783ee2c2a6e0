"""h11 with the framing rules of ``app.server.framing``: ``StrictConnection``.

h11 is lenient where llhttp is not: it reads bare LF and folded lines in trailers (then serves
what follows as a new request), whitespace after a chunk-size, chunk-sizes past 64 bits,
repeated ``Content-Length`` lines, control characters in field values, any method and any
``HTTP/x.y``. Heads are checked from the raw bytes before h11 parses them; a chunked body is
read by ``StrictChunkedReader``, which checks each chunk line and the trailer section before
h11's own reader consumes them. Both use h11 internals (``_reader``, the receive buffer's
``_data``): h11 is pinned in ``uv.lock`` and the byte-sequence table tests this.
"""

from __future__ import annotations

import re
from typing import Any

import h11
from h11._readers import ChunkedReader
from h11._receivebuffer import ReceiveBuffer

from app.server.framing import (
    HEAD_END,
    INVALID,
    TRAILERS_TOO_LARGE,
    Refusal,
    from_absolute_form,
    head_problem,
    oversized,
    raw_head_problem,
    request_line_problem,
    trailer_problem,
    trailers_size,
)

_BLANK_LINES = re.compile(rb"(?:\r\n)*")
_CHUNK_LINE = re.compile(rb"(0*)([0-9A-Fa-f]{1,16})(?:;[^\r\n]*)?\r\n")
_CHUNK_LINE_SO_FAR = re.compile(rb"0*[0-9A-Fa-f]{0,16}(?:;[^\r\n]*)?\r?")


def _refuse(refusal: Refusal | None) -> None:
    if refusal is not None:
        raise h11.RemoteProtocolError(refusal.detail, error_status_hint=refusal.status)


class StrictChunkedReader(ChunkedReader):
    """h11's chunked-body reader, refusing what ``app.server.framing`` refuses; ``limit``:
    the trailer section's (the head's)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def __call__(self, buf: ReceiveBuffer) -> Any:
        if self._reading_trailer:
            _refuse(trailer_problem(bytes(buf._data)))
        elif not self._bytes_to_discard and self._bytes_in_chunk == 0:
            data = buf._data
            end = data.find(b"\n")
            if end < 0:
                if not _CHUNK_LINE_SO_FAR.fullmatch(data):
                    _refuse(INVALID)
                return super().__call__(buf)
            found = _CHUNK_LINE.fullmatch(data, 0, end + 1)
            if found is None:
                _refuse(INVALID)
                raise AssertionError  # unreachable: _refuse raised
            zeros, size = len(found.group(1)), int(found.group(2), 16)
            if zeros:  # leading zeros: the value counts (as llhttp), h11 takes 20 digits
                buf.maybe_extract_at_most(zeros)
            if size == 0:
                _refuse(trailer_problem(bytes(buf._data[end + 1 - zeros :])))
        event = super().__call__(buf)
        if isinstance(event, h11.EndOfMessage) and trailers_size(event.headers) > self.limit:
            _refuse(TRAILERS_TOO_LARGE)
        return event


class StrictConnection(h11.Connection):
    """h11's connection with the rules of ``app.server.framing``; ``refusal`` says why it
    raised."""

    refusal: Refusal | None = None
    reading_head = True  # when the last event was asked for: whether a head was expected
    blank_lines = False  # empty lines came before the next request line (and were dropped)

    def __init__(self, max_head_bytes: int) -> None:
        super().__init__(h11.SERVER, max_incomplete_event_size=max_head_bytes)
        self.max_head_bytes = max_head_bytes

    def next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        self.reading_head = self.their_state is h11.IDLE
        if self.reading_head:  # the buffer begins with a request head
            buffered = self.trailing_data[0]
            blank = _BLANK_LINES.match(buffered).end()  # type: ignore[union-attr]
            if blank:  # ignored before a request line (RFC 9112 §2.2), as llhttp does
                self._receive_buffer.maybe_extract_at_most(blank)
                buffered, self.blank_lines = buffered[blank:], True
            end = buffered.find(HEAD_END)
            head = buffered if end < 0 else buffered[: end + len(HEAD_END)]
            limit = self.max_head_bytes
            self._refuse(oversized(limit, len(head), b"\n" in head[:limit]))
            line, ended, _ = head.partition(b"\r\n")
            self._refuse(request_line_problem(line, whole=bool(ended)))
            self._refuse(raw_head_problem(head))
        try:
            event = super().next_event()
        except h11.RemoteProtocolError as error:
            if error.error_status_hint == 431 and not self.reading_head:  # a chunk line, trailers
                self.refusal = self.refusal or TRAILERS_TOO_LARGE
            raise
        if isinstance(event, h11.Request):
            self.blank_lines = False
            return self._request(event)
        return event

    def _request(self, event: h11.Request) -> h11.Request:
        version = event.http_version.decode("ascii")
        self._refuse(head_problem(version, event.headers))
        if type(self._reader) is ChunkedReader:
            self._reader = StrictChunkedReader(self.max_head_bytes)
        target, headers = event.target, list(event.headers)
        absolute = from_absolute_form(target, headers)
        if isinstance(absolute, Refusal):
            self._refuse(absolute)
        elif absolute is not None:
            target, headers = absolute
        elif version in ("1.0", "1.1"):
            return event
        # A higher minor version is served as HTTP/1.1 (RFC 9110 §2.5).
        served = b"1.0" if version == "1.0" else b"1.1"
        return h11.Request(method=event.method, target=target, headers=headers, http_version=served)

    def _refuse(self, refusal: Refusal | None) -> None:
        if refusal is not None:
            self.refusal = refusal
            _refuse(refusal)
