"""Serve an ASGI app to Lambda through Mangum, with what Mangum gets wrong fixed.

- One event loop per execution environment, created at init; every invocation runs on it, so
  clients opened in invocation 1 keep working in 2..N (Mangum's own ``__call__`` runs on
  whatever ``asyncio.get_event_loop()`` returns, which differs by Python version and thread).
- The app's lifespan starts once, at init (inside a SnapStart snapshot), never per request.
- Each event goes to the handler class of its source (``sources``: Mangum's handlers, each
  checking its events before Mangum reads them); a bad one is a JSON 400, never a traceback.
- Any failure inside is a JSON 500 in proxy shape; nothing escapes ``__call__``.
- HTTP API 2.0: no invented ``content-type: application/json`` on responses that have none
  (a 204 stays bare).
- The root path (stage or base path mapping) is inferred from each event.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from mangum.adapter import DEFAULT_TEXT_MIME_TYPES
from mangum.protocols.http import HTTPCycle, HTTPCycleState
from mangum.types import LambdaConfig
from starlette.types import ASGIApp, Scope

from app.aws_lambda.lifespan import Lifespan
from app.aws_lambda.sources import BadEvent, infer
from app.aws_lambda.sources.alb import Alb
from app.aws_lambda.sources.base import ProxyResponse
from app.http.answers import Answer, answer_if_not_started, error_body, printable
from app.http.middleware.request_ids import gateway_request_id, trace_id

logger = logging.getLogger("app.lambda")


class LambdaAdapter:
    """``adapter(event, context)`` serves one Lambda HTTP event with ``app``.

    Build it once per execution environment (at module level of the handler module): the
    constructor creates the event loop and runs the app's startup on it. ``on_restore`` is what
    the app does after a SnapStart restore (``after_restore`` runs it on that loop).
    """

    def __init__(
        self, app: ASGIApp, *, on_restore: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.app = app
        self._on_restore = on_restore
        self._closed = False
        # Held while the loop runs: SIGTERM's shutdown comes from a thread of its own.
        self._running = threading.Lock()
        self.config = LambdaConfig(
            api_gateway_base_path="/",
            text_mime_types=[*DEFAULT_TEXT_MIME_TYPES],
            exclude_headers=[],
        )
        self._guarded_app = answer_if_not_started(app, Exception, _internal_error)
        # Mangum's per-response INFO line would double the one structured line logged here.
        logging.getLogger("mangum.http").setLevel(logging.WARNING)
        self.loop = asyncio.new_event_loop()
        self.lifespan = Lifespan(app)
        self.loop.run_until_complete(self.lifespan.startup())
        # Lambda never calls close(); a script that built a handler (a tool, a test) shuts the
        # app down as it exits instead of leaving its lifespan task pending.
        atexit.register(_close_if_alive, weakref.ref(self))

    def __call__(self, event: Any, context: Any) -> ProxyResponse:
        try:
            with self._running:
                if self._closed:  # an invocation that arrived after the shutdown began
                    return error_response(event, 503, "The environment is shutting down; retry")
                return self.loop.run_until_complete(self._serve(event, context))
        except Exception:
            logger.exception("Lambda invocation failed", extra=_ids(event, context))
            return error_response(event, 500, "Internal Server Error")

    def after_restore(self) -> None:
        """Run the app's ``on_restore`` on the environment's loop (between invocations)."""
        if self._on_restore is not None:
            with self._running:
                self.loop.run_until_complete(self._on_restore())

    def close(self) -> None:
        """Run the app's shutdown once and close the loop (on SIGTERM or at exit; a no-op
        after the first call)."""
        if self._closed:
            return
        self._closed = True
        if not self._running.acquire(blocking=False):  # a signal during an invocation
            logger.warning("Lambda environment stopped during an invocation; no shutdown")
            return
        try:
            self.loop.run_until_complete(self.lifespan.shutdown())
            self.loop.close()
        finally:
            self._running.release()
        logger.info("Lambda environment shut down")

    async def _serve(self, event: Any, context: Any) -> ProxyResponse:
        started = time.perf_counter()
        try:
            handler = infer(event, context, self.config)
            handler.check()
            try:
                scope = handler.scope
                scope["root_path"], scope["path"] = handler.root_path()
                body = handler.body
            except BadEvent:
                raise
            except (KeyError, TypeError, ValueError, AttributeError, UnicodeError) as exc:
                # Whatever check() missed and Mangum cannot read is still the event's fault.
                raise BadEvent(f"unreadable event ({type(exc).__name__})") from exc
        except BadEvent as exc:
            # It may quote a client's header name: bounded, and writable as UTF-8 (log and body).
            reason = printable(str(exc)[:200])
            logger.warning(
                "Rejected Lambda event: %s",
                reason,
                extra={**_ids(event, context), "status": 400, "reason": reason},
            )
            return error_response(event, 400, f"Bad request event: {reason}")
        scope["state"] = dict(self.lifespan.state)
        cycle = HTTPCycle(scope, body)
        await cycle.run(self._guarded_app)  # type: ignore[arg-type]  # Awaitable vs Coroutine
        if cycle.state is not HTTPCycleState.COMPLETE:
            return error_response(event, 500, "Internal Server Error")
        app_headers = [[bytes(k), bytes(v)] for k, v in cycle.headers]
        response = handler({"status": cycle.status, "headers": app_headers, "body": cycle.body})
        handler.fix_response(response, app_headers)
        _log_request(scope, context, cycle.status, started)
        return response


def _close_if_alive(adapter: weakref.ref[LambdaAdapter]) -> None:
    alive = adapter()
    if alive is not None:
        alive.close()


def _internal_error(scope: Scope, error: BaseException, started: bool) -> Answer:
    logger.exception("Unhandled error in the ASGI app")
    return 500, "Internal Server Error", ()


def error_response(event: object, status: int, detail: str) -> ProxyResponse:
    """A JSON error in the proxy response shape the event's source expects."""
    response: ProxyResponse = {
        "statusCode": status,
        "body": error_body(detail).decode(),
        "isBase64Encoded": False,
    }
    headers = {"content-type": "application/json"}
    if Alb.multi_value(event):
        response["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    else:
        response["headers"] = headers
    return response


def _ids(event: object, context: Any, scope: Scope | None = None) -> dict[str, Any]:
    return {
        "lambda_request_id": getattr(context, "aws_request_id", None),
        "apigw_request_id": gateway_request_id(event),
        "trace_id": trace_id(scope),
    }


def _log_request(scope: Scope, context: Any, status: int, started: float) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return  # LOG_LEVEL=WARNING and up: skip building the line's fields
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    owner = scope.get("state", {}).get("owner")
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    logger.info(
        "%s %s %s %.1fms",
        scope["method"],
        template or "-",
        status,
        latency_ms,
        extra={
            **_ids(scope.get("aws.event"), context, scope),
            "method": scope["method"],
            "route": template,
            "status": status,
            "latency_ms": latency_ms,
            "owner": owner,
        },
    )
