"""uvicorn's httptools protocol (the ``fast`` extra) with the limits of ``app.server.protocols``.

httptools keeps a header it has not finished in one growing buffer, with no limit, and offers
no hook inside it. So the bytes of an unfinished request head are counted here, and a chunk
that would take the head over ``max_head_bytes`` is never fed.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.server.protocols import Guard, Phase, oversized


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
        self._head_bytes = 0  # of the unfinished head, counted from the chunk it began in
        self._line_ended = False  # whether the unfinished head's request line has ended
        self._tail = b""  # the last bytes fed, in case HEAD_END spans two chunks

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.guard = Guard(self.config, self.loop)
        admitted = self.guard.admit(self.server_state, transport)
        super().connection_made(transport)
        if admitted:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.cancel()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._at = "head"

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._at = "body"

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._at = "between"

    def data_received(self, data: bytes) -> None:
        if self.guard.answered or self.transport.is_closing():
            return
        limit = self.guard.limits.max_head_bytes
        if self._at != "body":
            too_big = oversized(limit, self._head_bytes, self._line_ended, self._tail, data)
            if too_big:
                self.guard.answer(self.transport, *too_big)  # never fed to the parser
                return
        began_before = self._at == "head"
        super().data_received(data)
        if self.guard.answered or self.transport.is_closing():
            self.guard.cancel()
            return
        if self._at != "head":
            self._head_bytes, self._line_ended, self._tail = 0, False, b""
            self.guard.expect("body" if self._at == "body" else None, self._too_slow)
            return
        # A head began in an earlier chunk, or in this one: then all of it is counted (more
        # than the head only when a pipelined request ended in the same chunk).
        self._head_bytes = (self._head_bytes if began_before else 0) + len(data)
        self._line_ended = (began_before and self._line_ended) or b"\n" in data
        self._tail = data[-3:]
        if self._head_bytes > limit:
            self.guard.answer(self.transport, 431, "Request header fields too large")
            return
        self.guard.expect("head", self._too_slow)

    def _too_slow(self, phase: Phase) -> None:
        self.guard.too_slow(self.transport, phase, self.cycle)

    def send_400_response(self, msg: str) -> None:
        self.guard.answer(self.transport, 400, "Invalid HTTP request")
