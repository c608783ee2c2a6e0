"""A stub HTTP/1.1 server on real sockets (127.0.0.1), on a thread of its own: it answers
every request at once with a chosen status and body, except while it stalls."""
# A support module, not a test module: pytest collects test_*.py only.

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from types import TracebackType


class StubServer:
    """``answer(n)`` gives the n-th request's (status, body); ``stall(at, seconds)`` holds
    every answer due in ``[at, at + seconds)`` after ``start`` until the stall ends."""

    def __init__(self, answer: Callable[[int], tuple[int, bytes]] | None = None) -> None:
        self.answer = answer or (lambda _: (200, b'{"ok":true}'))
        self.requests = 0
        self.connections = 0
        self._stall: tuple[float, float] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def stall(self, at: float, seconds: float) -> None:
        """Hold the answers to requests received from ``at`` s from now for ``seconds``."""
        self._stall = (time.monotonic() + at, seconds)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> StubServer:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        ).result()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    async def _hold(self) -> None:
        if self._stall is None:
            return
        at, seconds = self._stall
        now = time.monotonic()
        if at <= now < at + seconds:
            await asyncio.sleep(at + seconds - now)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                number = self.requests
                self.requests += 1
                await self._hold()
                status, body = self.answer(number)
                writer.write(
                    f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
                    f"content-length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
