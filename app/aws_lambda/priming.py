"""Priming before a SnapStart snapshot: the first request's code paths run once, inside it.

AWS's SnapStart guidance (docs.aws.amazon.com/lambda/latest/dg/snapstart-best-practices.html)
is to do in init whatever the first invocation would otherwise do, and where that is not
possible to send the handler dummy requests before the snapshot. Here a before-snapshot hook
(``snapshot_restore_py``, run only when Lambda publishes a SnapStart version) sends the handler
a few API Gateway events: each one runs Mangum's event reading, routing, the identity check,
validation, the service, the store's request building and signing, decoding and the JSON
response, so that the lazily imported modules, compiled patterns and built validators they
need are in the snapshot; so does the store's after-restore reconnect (it opens nothing). The
store answers from memory meanwhile (``dry_run``), keys included: nothing reaches the table or
the credentials endpoint, no connection is opened, so nothing stale is captured. Nothing is
logged or measured either (no EMF line: priming is not traffic).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from app.aws_lambda.adapter import LambdaAdapter

logger = logging.getLogger("app.lambda")

OWNER = "snapstart-priming"  # the claims' subject: a caller that exists only in memory
ORDER = {"order": [{"product": "flat white", "size": "small", "quantity": 1}]}


@runtime_checkable
class DryRuns(Protocol):
    """A store that can answer from memory for a while (``DynamoDBStore.dry_run``)."""

    def dry_run(self) -> AbstractContextManager[None]: ...


def install(adapter: LambdaAdapter) -> bool:
    """Prime ``adapter`` before Lambda takes the SnapStart snapshot (False where the runtime
    has no snapshot hooks, e.g. outside Lambda: nothing registered)."""
    return register_before_snapshot(lambda: _prime_or_warn(adapter))


def _prime_or_warn(adapter: LambdaAdapter) -> None:
    # Priming only saves time: a request answered unexpectedly is worth a warning in the logs,
    # not a failed publication.
    for problem in prime(adapter):
        logger.warning("SnapStart priming: %s", problem)


def register_before_snapshot(hook: Callable[[], object]) -> bool:
    """Register ``hook`` with the runtime's ``snapshot_restore_py``; False where it is absent."""
    try:
        module = importlib.import_module("snapshot_restore_py")
    except ImportError:
        return False
    module.register_before_snapshot(hook)
    return True


def prime(adapter: LambdaAdapter) -> list[str]:
    """Serve the priming requests with the store in a dry run; what was not answered as
    expected (empty when all were)."""
    store = getattr(getattr(adapter.app, "state", None), "store", None)
    problems: list[str] = []

    def expect(request: dict[str, Any], status: int) -> Any:
        response = adapter(request, None)
        if response.get("statusCode") != status:
            method, path = request["requestContext"]["http"]["method"], request["rawPath"]
            problems.append(f"{method} {path}: {response.get('statusCode')}, expected {status}")
            return None
        return json.loads(response["body"]) if response.get("body") else None

    with _quiet(), store.dry_run() if isinstance(store, DryRuns) else contextlib.nullcontext():
        expect(event("GET", "/health", "ANY /health"), 200)  # not /hi: it waits GREET_DELAY
        if isinstance(store, DryRuns):
            created = expect(event("POST", "/orders", "ANY /orders", body=ORDER), 201)
            if created is not None:
                expect(event("GET", f"/orders/{created['id']}", "ANY /orders/{proxy+}"), 200)
            expect(event("GET", "/orders", "ANY /orders"), 200)
            missing = "/orders/00000000-0000-7000-8000-000000000000"
            expect(event("GET", missing, "ANY /orders/{proxy+}"), 404)
        expect(event("POST", "/orders", "ANY /orders", body={"order": []}), 422)
    # The after-restore path itself (the store drops its unused client and makes another):
    # closing a connection pool the first time imports anyio's asyncio backend.
    adapter.after_restore()
    # What priming allocated and kept joins init's frozen heap (see app/aws_lambda/handler.py).
    gc.collect()
    gc.freeze()
    return problems


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No log records and no stdout (EMF metric lines) while priming."""
    disabled = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logging.disable(disabled)


def event(method: str, path: str, route_key: str, *, body: object = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event as the stack's gateway sends it, from a
    caller the JWT authorizer let through as ``OWNER``."""
    headers = {"host": "priming.execute-api.localhost", "user-agent": "snapstart-priming"}
    if body is not None:
        headers["content-type"] = "application/json"
    proxy = path.removeprefix("/orders/") if route_key.endswith("{proxy+}") else None
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        **({"pathParameters": {"proxy": proxy}} if proxy is not None else {}),
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "priming",
            "authorizer": {"jwt": {"claims": {"sub": OWNER}, "scopes": None}},
            "domainName": "priming.execute-api.localhost",
            "domainPrefix": "priming",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "snapstart-priming",
            },
            "requestId": "snapstart-priming",
            "routeKey": route_key,
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }
