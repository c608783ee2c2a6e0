"""moto's DynamoDB server (real HTTP) for tests and tools, atomic per request like DynamoDB."""

from __future__ import annotations

import threading
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


class SerializedMotoServer(ThreadedMotoServer):
    """moto's threaded server, handling one request at a time.

    moto evaluates a condition and applies the write in separate steps without a lock, so two
    server threads can both pass the same condition (measured: 30 concurrent conditional pays of
    one order had two winners in 2 of 20 rounds). DynamoDB applies each item write atomically;
    serialising requests gives moto that guarantee while clients stay fully concurrent.
    """

    def _server_entry(self) -> None:
        lock = threading.Lock()
        app = DomainDispatcherApplication(create_backend_app)

        def serialized(environ: Any, start_response: Any) -> Any:
            with lock:
                return app(environ, start_response)

        self._server = make_server(
            self._ip_address, self._port, serialized, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()
