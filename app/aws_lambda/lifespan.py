"""The ASGI lifespan of an app, driven by hand: started once, shut down once.

Mangum's ``lifespan="auto"`` wraps *every invocation* in startup and shutdown (mangum #342),
so clients are reopened per request. Here the lifespan task starts on the environment's event
loop during init and simply stays suspended between invocations until ``shutdown``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message


class LifespanError(RuntimeError):
    """The app reported ``lifespan.startup.failed`` or ``lifespan.shutdown.failed``."""


class Lifespan:
    """Runs ``app`` with a ``lifespan`` scope on the running loop; ``state`` is its state."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        """Start the app's lifespan and wait until its startup completed (or raise)."""
        self._task = asyncio.get_running_loop().create_task(self._run())
        await self._inbox.put({"type": "lifespan.startup"})
        # "exited": per the ASGI spec, an app that raises on the lifespan scope has nothing
        # to start, and that is not an error.
        await self._expect("lifespan.startup")

    async def shutdown(self) -> None:
        """Ask the app to shut down and wait for it (a no-op when it never started)."""
        if self._task is None or self._task.done():
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        await self._expect("lifespan.shutdown")
        await self._task

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        try:
            await self.app(scope, self._inbox.get, self._outbox.put)
        except Exception:  # noqa: S110 - reported through the outbox, as the spec says
            pass
        finally:
            await self._outbox.put({"type": "lifespan.exited"})

    async def _expect(self, phase: str) -> str:
        message = await self._outbox.get()
        kind: str = message["type"]
        if kind == f"{phase}.failed":
            raise LifespanError(message.get("message") or f"{phase} failed")
        if kind == f"{phase}.complete":
            return "complete"
        if kind == "lifespan.exited":
            return "exited"
        raise LifespanError(f"unexpected {kind!r} during {phase}")
