"""One connection's share of the server: the connection cap, the head and body timers, and
the answers the server gives itself (JSON, after the answers to the requests before it, then
the connection is closed without a reset). Used by both protocols of ``app.server.bounded``."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, ClassVar, Literal

import uvicorn
from uvicorn.server import ServerState

from app.http.answers import error_body
from app.server.framing import Refusal
from app.server.limits import RESERVED_FILES, ServerLimits

Phase = Literal["head", "body"]
LINGER = 2.0  # seconds a connection the server answered itself drains before it is closed
# Connections that may drain at once: each keeps its file open. A refusal beyond them takes
# the place of one that drains (``Guard.answer``).
DRAINING = RESERVED_FILES // 2


class Guard:
    """One connection's limits: the connection cap, one timer for the request's head or body
    (whichever is being received), and the answers the server gives itself."""

    def __init__(self, config: uvicorn.Config, loop: asyncio.AbstractEventLoop) -> None:
        limits = getattr(config, "limits", None)
        self.limits = limits if isinstance(limits, ServerLimits) else ServerLimits()
        self._loop = loop
        self._timer: asyncio.TimerHandle | None = None
        self.phase: Phase | None = None
        self.answered = False  # the server answered (or will) and ends the connection
        # The client half-closed after whole requests: they are answered, then it closes.
        self.half_closed = False
        self._deferred: Refusal | None = None
        self._heard = False  # bytes arrived after the answer (and were dropped)

    # The connections of this process draining now, oldest first, with their transports.
    _draining: ClassVar[dict[Guard, asyncio.Transport]] = {}

    def admit(self, server_state: ServerState, transport: asyncio.Transport) -> bool:
        """False (and the connection answered 503) when the server is at its connection cap."""
        if len(server_state.connections) < self.limits.max_connections:
            return True
        self.answer(transport, 503, "Too many open connections; retry later", ("retry-after", "1"))
        return False

    def expect(self, phase: Phase | None, expired: Callable[[Phase], None]) -> None:
        """Time the request's ``phase`` (None: nothing is being received)."""
        if phase == self.phase:
            return
        self.cancel()
        self.phase = phase
        if phase is not None:
            seconds = self.limits.head_timeout if phase == "head" else self.limits.body_timeout
            self._timer = self._loop.call_later(seconds, expired, phase)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.phase = None

    def refuse(
        self, transport: asyncio.Transport, refusal: Refusal, *, own: Any | None, behind: bool
    ) -> None:
        """Answer a request the server refuses, then end the connection.

        ``own``: the refused request's cycle, when the app already has it: the app is told the
        client left, and once its answer has begun the connection just closes. ``behind``:
        answers to earlier pipelined requests are still being written; this one waits for
        them (``flush``), and nothing more is read.
        """
        self.cancel()
        self.answered = True
        if own is not None:
            if not own.response_complete:
                own.disconnected = True  # the app's receive() gets http.disconnect
                own.message_event.set()
            if own.response_started:
                transport.close()
                return
        if behind:
            self._deferred = refusal
        else:
            self.answer(transport, *refusal)

    @property
    def pending(self) -> bool:
        """A refusal waits for the answers before it (``refuse`` with ``behind``)."""
        return self._deferred is not None

    def flush(self, transport: asyncio.Transport) -> None:
        """Send the answer ``refuse`` kept back, once the earlier answers are written."""
        refusal, self._deferred = self._deferred, None
        if refusal is not None and not transport.is_closing():
            self.answer(transport, *refusal)

    def answer(
        self, transport: asyncio.Transport, status: int, detail: str, *headers: tuple[str, str]
    ) -> None:
        """Send a JSON error of the server's own and end the connection.

        Closing a socket with bytes from the client still unread makes the kernel reset the
        connection, and a reset can destroy the answer before the client reads it. So the answer
        is followed by a FIN, what still arrives is read and dropped, and the socket is closed
        when the client closes its side, or after ``LINGER`` seconds. At most ``DRAINING``
        connections drain at once (each keeps a file open): beyond, this one takes the place of
        one whose client has sent since its answer (its request is in: nothing more is likely
        to come), else of the oldest, which is closed after reading what its client sent. The
        newest answer is the one whose request is most likely still on its way.
        """
        self.cancel()
        self.answered = True
        body = error_body(detail)
        lines = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            "content-type: application/json",
            f"content-length: {len(body)}",
            "connection: close",
            *(f"{name}: {value}" for name, value in headers),
        ]
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        if self.half_closed:  # the client sent all it will: nothing is left unread
            transport.close()
        elif transport.can_write_eof():
            transport.write_eof()
            if len(Guard._draining) >= DRAINING:
                Guard._make_room()
            Guard._draining[self] = transport
            self._loop.call_later(LINGER, transport.close)
        else:
            discard_unread(transport)
            transport.close()

    def dropped(self) -> None:
        """Bytes arrived after the server's answer and were dropped."""
        self._heard = True

    @staticmethod
    def _make_room() -> None:
        """Close one draining connection: one whose client has sent since its answer, else the
        oldest."""
        draining = Guard._draining
        victim = next((guard for guard in draining if guard._heard), next(iter(draining)))
        draining.pop(victim).close()

    def closed(self, transport: asyncio.Transport) -> None:
        """The connection is gone (asyncio closes its socket next): its timer, its place among
        the draining ones, and, after an answer of the server's own, what its client sent
        since the last read (a request arriving while the close was pending, say)."""
        self.cancel()
        Guard._draining.pop(self, None)
        if self.answered:
            discard_unread(transport)


def discard_unread(transport: asyncio.Transport, most: int = 16) -> None:
    """Read and drop what the client has sent and the kernel holds (up to ``most`` reads of
    64 KiB): the socket is about to close, and closing it with bytes unread would reset it."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return
    with contextlib.suppress(OSError):  # BlockingIOError: nothing (more) to read now
        for _ in range(most):
            if not os.read(sock.fileno(), 65536):
                return


def too_slow(phase: Phase) -> Refusal:
    return Refusal(408, f"Request {'headers' if phase == 'head' else 'body'} not received in time")
