"""uvicorn's two HTTP/1.1 protocols with each client's share of the server bounded.

- request heads: what ``app.server.framing`` accepts (size, line ends, Host, framing);
- time: ``head_timeout`` from a request's first byte to its last header and ``body_timeout``
  for its body, else 408; a connection that sends nothing closes after ``idle_timeout``;
- connections: beyond ``max_connections`` a new one is answered 503 and closed;
- what the server answers itself (these, and 400 for a request it cannot parse) is JSON
  ``{"detail": ...}``, like every answer of the app, and comes after the answers to the
  requests pipelined before it; then the connection is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, ClassVar, Literal

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from app.http.answers import error_body
from app.server.framing import INVALID, Refusal, StrictConnection
from app.server.limits import RESERVED_FILES, ServerLimits

Phase = Literal["head", "body"]
LINGER = 2.0  # seconds a connection the server answered itself drains before it is closed
# Connections that may drain at once: each keeps its file open; beyond, one closes at once.
DRAINING = RESERVED_FILES // 2


class BoundedConfig(uvicorn.Config):
    """uvicorn's configuration with ``limits``, which the protocols below read."""

    def __init__(self, app: Any, *, limits: ServerLimits, **options: Any) -> None:
        super().__init__(
            app,
            timeout_keep_alive=limits.idle_timeout,
            timeout_graceful_shutdown=limits.drain_timeout,
            ws="none",  # the app serves no WebSocket: an Upgrade is an ordinary request
            **options,
        )
        self.limits = limits


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
        self._deferred: Refusal | None = None
        self._draining = False

    draining: ClassVar[int] = 0  # connections of this process draining now

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
        when the client closes its side, or after ``LINGER`` seconds. Beyond ``DRAINING``
        such connections at once (each keeps a file open), the connection closes at once, after
        reading what its client had already sent (a request sent before the server accepted the
        connection, say).
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
        if transport.can_write_eof() and Guard.draining < DRAINING:
            transport.write_eof()
            Guard.draining += 1
            self._draining = True
            self._loop.call_later(LINGER, transport.close)
        else:
            discard_unread(transport)
            transport.close()

    def closed(self) -> None:
        """The connection is gone: its timer and its place among the draining ones."""
        self.cancel()
        if self._draining:
            self._draining = False
            Guard.draining -= 1


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


class BoundedH11Protocol(H11Protocol):
    """h11, the pure-Python parser (uvicorn's choice without the ``fast`` extra)."""

    guard: Guard  # one per connection, from connection_made on
    conn: StrictConnection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.guard = Guard(self.config, self.loop)
        self.conn = StrictConnection(self.guard.limits.max_head_bytes)
        admitted = self.guard.admit(self.server_state, transport)
        super().connection_made(transport)
        if admitted:  # a connection that never sends a request is closed like an idle one
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.closed()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.guard.answered or self.transport.is_closing():
            return
        super().data_received(data)
        self._time_what_is_received()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # parses what was pipelined behind the answered request
        self._time_what_is_received()

    def _time_what_is_received(self) -> None:
        state = self.conn.their_state
        if self.guard.answered or self.transport.is_closing():
            self.guard.cancel()
        elif state is h11.IDLE and self.conn.trailing_data[0]:
            self._unset_keepalive_if_required()  # a head has begun: its own timer runs
            self.guard.expect("head", self._too_slow)
        else:
            self.guard.expect("body" if state is h11.SEND_BODY else None, self._too_slow)

    def _too_slow(self, phase: Phase) -> None:
        own = self.cycle if phase == "body" else None
        self.guard.refuse(self.transport, too_slow(phase), own=own, behind=False)

    def send_400_response(self, msg: str) -> None:
        own = None if self.conn.reading_head else self.cycle
        # h11 reads a new head only once the previous answer is complete: never behind.
        self.guard.refuse(self.transport, self.conn.refusal or INVALID, own=own, behind=False)
