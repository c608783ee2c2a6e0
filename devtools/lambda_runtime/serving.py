"""An ASGI app on a free loopback port, served by uvicorn inside an already running loop."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import uvicorn
from starlette.types import ASGIApp


class LocalServer:
    """``await start()`` serves ``app`` on 127.0.0.1:<free port> until ``await stop()``.

    Run it on a thread other than the main one: uvicorn then leaves signal handlers alone.
    ``keep_alive`` is how long an idle keep-alive connection stays open (uvicorn closes it).
    """

    def __init__(self, app: ASGIApp, *, keep_alive: float = 5.0) -> None:
        # IPPROTO_TCP, not 0: only then does asyncio set TCP_NODELAY on accepted connections
        # (else Nagle holds each response's body until the client's delayed ACK, ~40 ms).
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        config = _OwnLoggingConfig(
            app,
            http="h11",
            lifespan="off",
            access_log=False,
            timeout_keep_alive=keep_alive,  # type: ignore[arg-type]  # a float works
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        """``host:port``, as in ``AWS_LAMBDA_RUNTIME_API``."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    async def start(self) -> None:
        _quiet(threading.current_thread().name)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("the server stopped while starting")
            await asyncio.sleep(0.005)

    def drop_connections(self) -> int:
        """Reset every open connection (as a network that lost them would); how many."""
        connections = list(self._server.server_state.connections)
        for connection in connections:
            transport = connection.transport
            if transport is not None:
                transport.abort()
        return len(connections)

    def open_connections(self) -> int:
        return len(self._server.server_state.connections)

    async def stop(self) -> None:
        if self._task is None:
            self._socket.close()
            return
        self._server.should_exit = True
        self.drop_connections()  # held long polls would keep a graceful shutdown waiting
        await self._task
        self._task = None
        self._socket.close()


class _OwnLoggingConfig(uvicorn.Config):
    """A config that leaves the process's logging alone. uvicorn's ``configure_logging``
    applies its logging set-up process-wide (``dictConfig``, the level of ``uvicorn.error`` and
    ``uvicorn.access``, and ``access_log=False`` empties ``uvicorn.access``'s handlers): each
    server started here would silence the main server's own lines (``make gateway``'s)."""

    def configure_logging(self) -> None:
        pass


class _NotFromThread(logging.Filter):
    def __init__(self, thread_name: str) -> None:
        super().__init__()
        self.thread_name = thread_name

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != self.thread_name or record.levelno >= logging.WARNING


def _quiet(thread_name: str) -> None:
    """Keep these servers' startup lines and access log out of uvicorn's loggers, which a
    main server (``make gateway``) configures for its own (warnings and errors still show)."""
    for name in ("uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NotFromThread) for f in logger.filters):
            logger.addFilter(_NotFromThread(thread_name))
