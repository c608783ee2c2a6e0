"""uvicorn's two HTTP/1.1 protocols with each client's share of the server bounded.

- request line + headers: at most ``max_head_bytes``, else 431 (414 when the request line
  alone is longer), checked before a chunk is fed to the parser: httptools has no limit (it
  buffers a 100 MB header whole), and h11's applies only to a head still incomplete after a
  read (one that arrives in a single read is parsed whatever its size);
- time: ``head_timeout`` from a request's first byte to its last header and ``body_timeout``
  for its body, else 408; a connection that sends nothing closes after ``idle_timeout``;
- connections: beyond ``max_connections`` a new one is answered 503 and closed;
- what the server answers itself (these, and 400 for a request it cannot parse) is JSON
  ``{"detail": ...}``, like every answer of the app.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Literal

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from app.server.limits import ServerLimits

Phase = Literal["head", "body"]
HEAD_END = b"\r\n\r\n"
LINGER = 2.0  # seconds a connection the server answered itself drains before it is closed


class BoundedConfig(uvicorn.Config):
    """uvicorn's configuration with ``limits``, which the protocols below read."""

    def __init__(self, app: Any, *, limits: ServerLimits, **options: Any) -> None:
        super().__init__(
            app,
            timeout_keep_alive=limits.idle_timeout,
            timeout_graceful_shutdown=limits.drain_timeout,
            h11_max_incomplete_event_size=limits.max_head_bytes,
            **options,
        )
        self.limits = limits


def oversized(
    limit: int, head_bytes: int, line_ended: bool, tail: bytes, data: bytes
) -> tuple[int, str] | None:
    """The answer when ``data`` takes an unfinished request head over ``limit`` bytes: 414 when
    its request line alone is longer, else 431; None while it fits.

    ``head_bytes`` of the head came before, ending in ``tail`` (its last bytes, in case the
    blank line that ends a head spans two chunks); ``line_ended``: its request line has ended.
    """
    end = (tail + data).find(HEAD_END)
    in_head = len(data) if end < 0 else end + len(HEAD_END) - len(tail)
    if head_bytes + in_head <= limit:
        return None
    if line_ended or b"\n" in data[: max(0, limit - head_bytes)]:
        return 431, "Request header fields too large"
    return 414, "Request line too long"


class Guard:
    """One connection's limits: the connection cap, one timer for the request's head or body
    (whichever is being received), and the answers the server gives itself."""

    def __init__(self, config: uvicorn.Config, loop: asyncio.AbstractEventLoop) -> None:
        limits = getattr(config, "limits", None)
        self.limits = limits if isinstance(limits, ServerLimits) else ServerLimits()
        self._loop = loop
        self._timer: asyncio.TimerHandle | None = None
        self.phase: Phase | None = None
        self.answered = False  # the server answered and ends the connection: ignore its data

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

    def answer(
        self, transport: asyncio.Transport, status: int, detail: str, *headers: tuple[str, str]
    ) -> None:
        """Send a JSON error of the server's own and end the connection.

        Closing a socket whose client is still sending makes the kernel reset the connection,
        and a reset can destroy the answer before the client reads it. So the answer is
        followed by a FIN, what still arrives is read and dropped, and the socket is closed
        when the client closes its side, or after ``LINGER`` seconds.
        """
        self.cancel()
        self.answered = True
        body = json.dumps({"detail": detail}, separators=(",", ":")).encode()
        lines = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            "content-type: application/json",
            f"content-length: {len(body)}",
            "connection: close",
            *(f"{name}: {value}" for name, value in headers),
        ]
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        if transport.can_write_eof():
            transport.write_eof()
            self._loop.call_later(LINGER, transport.close)
        else:
            transport.close()

    def too_slow(self, transport: asyncio.Transport, phase: Phase, cycle: Any | None) -> None:
        """408 for a request whose head or body did not arrive in time."""
        if transport.is_closing() or self.answered:
            return
        if cycle is not None:
            cycle.disconnected = True  # the app's receive() gets http.disconnect
            if cycle.response_started:
                transport.close()
                return
        what = "headers" if phase == "head" else "body"
        self.answer(transport, 408, f"Request {what} not received in time")


class BoundedH11Protocol(H11Protocol):
    """h11, the pure-Python parser (uvicorn's choice without the ``fast`` extra)."""

    guard: Guard  # one per connection, from connection_made on

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.guard = Guard(self.config, self.loop)
        admitted = self.guard.admit(self.server_state, transport)
        super().connection_made(transport)
        if admitted:  # a connection that never sends a request is closed like an idle one
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.guard.answered or self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE:  # receiving a request's head
            head = self.conn.trailing_data[0]
            limit = self.guard.limits.max_head_bytes
            too_big = oversized(limit, len(head), b"\n" in head, head[-3:], data)
            if too_big:
                self.guard.answer(self.transport, *too_big)
                return
        super().data_received(data)
        state = self.conn.their_state
        if self.guard.answered or self.transport.is_closing():
            self.guard.cancel()
        elif state is h11.IDLE and self.conn.trailing_data[0]:
            self.guard.expect("head", self._too_slow)
        else:
            self.guard.expect("body" if state is h11.SEND_BODY else None, self._too_slow)

    def _too_slow(self, phase: Phase) -> None:
        self.guard.too_slow(self.transport, phase, self.cycle)

    def send_400_response(self, msg: str) -> None:
        self.guard.answer(self.transport, 400, "Invalid HTTP request")
