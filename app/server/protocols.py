"""uvicorn's two HTTP/1.1 protocols with each client's share of the server bounded.

- request line + headers: at most ``max_head_bytes``, else 431 (414 when the request line
  alone is longer). h11 stops buffering there itself; httptools has no such limit (it buffers
  a 100 MB header whole), so the bytes of an unfinished head are counted before it is fed;
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


def answer(
    transport: asyncio.BaseTransport, status: int, detail: str, *headers: tuple[str, str]
) -> None:
    """Write a JSON error response of the server's own and close the connection."""
    assert isinstance(transport, asyncio.WriteTransport)  # noqa: S101 - a TCP transport
    body = json.dumps({"detail": detail}).encode()
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "connection: close",
        *(f"{name}: {value}" for name, value in headers),
    ]
    transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    transport.close()


def too_large(request_line_ended: bool) -> tuple[int, str]:
    if not request_line_ended:
        return 414, "Request line too long"
    return 431, "Request header fields too large"


class Guard:
    """One connection's limits: the connection cap, and one timer for the request's head or
    body (whichever is being received)."""

    def __init__(self, config: uvicorn.Config, loop: asyncio.AbstractEventLoop) -> None:
        limits = getattr(config, "limits", None)
        self.limits = limits if isinstance(limits, ServerLimits) else ServerLimits()
        self._loop = loop
        self._timer: asyncio.TimerHandle | None = None
        self.phase: Phase | None = None

    def admit(self, server_state: ServerState, transport: asyncio.BaseTransport) -> bool:
        """False (and the connection answered 503) when the server is at its connection cap."""
        if len(server_state.connections) < self.limits.max_connections:
            return True
        answer(transport, 503, "Too many open connections; retry later", ("retry-after", "1"))
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


def request_too_slow(transport: asyncio.BaseTransport, phase: Phase, cycle: Any | None) -> None:
    """408 for a request whose head or body did not arrive in time (closed if answered)."""
    if transport.is_closing():
        return
    if cycle is not None:
        cycle.disconnected = True  # the app's receive() says http.disconnect; its answer is dropped
        if cycle.response_started:
            transport.close()
            return
    what = "headers" if phase == "head" else "body"
    answer(transport, 408, f"Request {what} not received in time")


class BoundedH11Protocol(H11Protocol):
    """h11 (pure Python): bounds the head through ``h11_max_incomplete_event_size``."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.guard = Guard(config, self.loop)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
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
        if self.transport.is_closing():
            return
        super().data_received(data)
        state = self.conn.their_state
        if self.transport.is_closing():
            self.guard.cancel()
        elif state is h11.IDLE and self.conn.trailing_data[0]:
            self.guard.expect("head", self._too_slow)
        else:
            self.guard.expect("body" if state is h11.SEND_BODY else None, self._too_slow)

    def _too_slow(self, phase: Phase) -> None:
        request_too_slow(self.transport, phase, self.cycle)

    def send_400_response(self, msg: str) -> None:
        buffered = self.conn.trailing_data[0]
        if len(buffered) > self.guard.limits.max_head_bytes:
            answer(self.transport, *too_large(b"\n" in buffered))
        else:
            answer(self.transport, 400, "Invalid HTTP request")
