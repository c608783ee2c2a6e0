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
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.server.framing import INVALID
from app.server.guard import Guard, Phase, too_slow
from app.server.limits import ServerLimits
from app.server.strict_h11 import StrictConnection


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
        self.guard.closed(self.transport)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.guard.answered or self.transport.is_closing():
            self.guard.dropped()
            return
        super().data_received(data)
        self._time_what_is_received()

    def eof_received(self) -> bool:  # type: ignore[override]  # asyncio's: bool | None
        """The client half-closed (``shutdown(SHUT_WR)``): a request it sent whole is answered,
        then the connection closes (True keeps the transport open for writing). Idle, or in the
        middle of a request, the connection closes now: the app sees a disconnect."""
        if self.guard.answered or self.conn.their_state not in (h11.DONE, h11.MUST_CLOSE):
            return False
        self.guard.half_closed = True
        return True

    def on_response_complete(self) -> None:
        super().on_response_complete()  # parses what was pipelined behind the answered request
        if self.guard.half_closed and (
            self.cycle.response_complete or self.conn.their_state is not h11.DONE
        ):
            self.transport.close()  # nothing more will come: the last whole request is answered
        self._time_what_is_received()

    def _time_what_is_received(self) -> None:
        state = self.conn.their_state
        if self.guard.answered or self.transport.is_closing():
            self.guard.cancel()
        elif state is h11.IDLE and (self.conn.trailing_data[0] or self.conn.blank_lines):
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
