"""What a request head must be, the same for both parsers, and the answer when it is not.

httptools (llhttp) already refuses bare-LF line ends, obs-fold and ``Content-Length`` beside
``Transfer-Encoding``; h11 refuses a missing or repeated ``Host``. Each accepts what the other
refuses, so every rule below is checked for both, and the same bytes get the same answer:

- the head (request line and headers) is at most ``max_head_bytes``: else 431, or 414 when
  the request line alone is longer (neither parser has such a limit for a head it receives
  whole);
- lines end in CRLF, and no header line is folded (RFC 9112 §2.2, §5.2): else 400;
- an HTTP/1.1 request has exactly one ``Host``, and a valid one (RFC 9112 §3.2): else 400;
- the only transfer coding is ``chunked``, and never beside ``Content-Length`` (RFC 9112
  §6.1, §6.3: a request that has both could be read two ways): else 400, and the connection
  is closed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

import h11

HEAD_END = b"\r\n\r\n"
# uri-host [ ":" port ] (RFC 3986 §3.2.2, zone ids RFC 6874): an IP literal or a reg-name.
_HOST = re.compile(rb"(\[[0-9A-Za-z:.%_~\-]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::([0-9]{0,5}))?")
_BARE_LF = re.compile(rb"(?<!\r)\n")


class Refusal(NamedTuple):
    """An answer the server gives itself: status and the JSON error's detail."""

    status: int
    detail: str


INVALID = Refusal(400, "Invalid HTTP request")
HEAD_TOO_LARGE = Refusal(431, "Request header fields too large")
LINE_TOO_LONG = Refusal(414, "Request line too long")
TRAILERS_TOO_LARGE = Refusal(431, "Request trailer fields too large")


def oversized(limit: int, size: int, line_ended: bool) -> Refusal | None:
    """The answer for a head of ``size`` bytes so far (None while it fits ``limit``);
    ``line_ended``: its request line ended within the limit."""
    if size <= limit:
        return None
    return HEAD_TOO_LARGE if line_ended else LINE_TOO_LONG


def _valid_host(value: bytes) -> bool:
    found = _HOST.fullmatch(value)
    return found is not None and int(found.group(2) or 0) <= 0xFFFF


def head_problem(http_version: str, headers: Iterable[tuple[bytes, bytes]]) -> Refusal | None:
    """What is wrong with a parsed head (header names in lower case), or None."""
    hosts: list[bytes] = []
    codings: list[bytes] = []
    has_length = False
    for name, value in headers:
        if name == b"host":
            hosts.append(value.strip())
        elif name == b"transfer-encoding":
            codings.append(value.strip().lower())
        elif name == b"content-length":
            has_length = True
    if len(hosts) > 1 or (http_version == "1.1" and not hosts):
        return INVALID
    if hosts and not _valid_host(hosts[0]):
        return INVALID
    if codings and (has_length or codings != [b"chunked"]):
        return INVALID
    return None


class StrictConnection(h11.Connection):
    """h11's connection with the rules above; ``refusal`` says why it raised."""

    refusal: Refusal | None = None
    reading_head = True  # when the last event was asked for: whether a head was expected

    def __init__(self, max_head_bytes: int) -> None:
        super().__init__(h11.SERVER, max_incomplete_event_size=max_head_bytes)
        self.max_head_bytes = max_head_bytes

    def next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        self.reading_head = self.their_state is h11.IDLE
        if self.reading_head:  # the buffer begins with a request head
            buffered = self.trailing_data[0]
            end = buffered.find(HEAD_END)
            head = buffered if end < 0 else buffered[: end + len(HEAD_END)]
            limit = self.max_head_bytes
            self._refuse(oversized(limit, len(head), b"\n" in head[:limit]))
            if _BARE_LF.search(head) or b"\n " in head or b"\n\t" in head:
                self._refuse(INVALID)
        try:
            event = super().next_event()
        except h11.RemoteProtocolError as error:
            if error.error_status_hint == 431 and not self.reading_head:  # a chunk line, trailers
                self.refusal = self.refusal or TRAILERS_TOO_LARGE
            raise
        if isinstance(event, h11.Request):
            version = event.http_version.decode("ascii")
            self._refuse(head_problem(version, event.headers))
        return event

    def _refuse(self, refusal: Refusal | None) -> None:
        if refusal is not None:
            self.refusal = refusal
            raise h11.RemoteProtocolError(refusal.detail, error_status_hint=refusal.status)
