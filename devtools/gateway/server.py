"""The emulator: an ASGI app that invokes the Lambda handler as API Gateway would."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.contract.gateway_routes import match_route
from devtools.gateway.access_log import AccessRecord
from devtools.gateway.authorizer import Authorizer, Denied
from devtools.gateway.cors_configuration import (
    CorsConfiguration,
    apply_cors,
    is_preflight,
    preflight_response,
)
from devtools.gateway.events import http_api_event, new_request_id
from devtools.gateway.function import Function, Handler, LambdaContext
from devtools.gateway.responses import MalformedResponse, gateway_error, to_response
from devtools.gateway.throttle import StageThrottle

logger = logging.getLogger("devtools.gateway")

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # HTTP API quota "Payload size": 10 MB
MAX_REQUEST_LINE_AND_HEADERS = 10240  # "Total combined size of request line and header values"
INTEGRATION_TIMEOUT = 30.0  # "Maximum integration timeout": 30 seconds
# An idle keep-alive connection is kept longer than client pools keep theirs (httpx and Node's
# agent 5 s, aiohttp 15 s): a server that closes first races a client reusing the connection,
# whose request then gets no status line. AWS documents no figure for API Gateway's own.
KEEP_ALIVE_SECONDS = 75


class Integration(Protocol):
    """Where the gateway sends each event: ``Function`` (the handler in this process) or a
    Lambda service (``devtools.gateway.lambda_service``)."""

    async def start(self) -> None: ...

    async def invoke(self, event: dict[str, Any], context: LambdaContext, limit: float) -> Any:
        """The function's response document; TimeoutError after ``limit`` seconds,
        ``FunctionError`` when Lambda answers with an error instead."""

    async def stop(self) -> None: ...


class FunctionError(Exception):
    """Lambda answered the invocation with an error (a function error, or the Invoke API
    refused the request): API Gateway answers 500."""


@dataclass
class GatewayConfig:
    """What the emulator serves: a handler factory (run on the function's thread in this
    process) or an ``integration``, and limits."""

    authorizer: Authorizer
    handler_factory: Callable[[], Handler] | None = None
    integration: Integration | None = None
    function_name: str = "orders-api-local"
    memory_limit_in_mb: int = 512
    timeout: float = INTEGRATION_TIMEOUT
    max_payload: int = MAX_PAYLOAD_BYTES
    max_headers: int = MAX_REQUEST_LINE_AND_HEADERS
    events: list[dict[str, Any]] | None = None  # if a list: every event sent (for tests)
    cors: CorsConfiguration | None = None  # the API's CORS configuration, if any
    throttle: StageThrottle | None = None  # the stage's route throttles, if any


def create_gateway(config: GatewayConfig) -> ASGIApp:
    """The emulator app for ``config`` (the handler is built at startup).

    Every HTTP request goes to the emulator whatever its path or method (no Starlette route:
    a path converter would not match every path API Gateway accepts, such as one with an
    encoded newline); Starlette runs the lifespan.
    """
    function = config.integration
    if function is None:
        if config.handler_factory is None:
            raise ValueError("GatewayConfig needs a handler_factory or an integration")
        function = Function(config.handler_factory)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await function.start()
        try:
            yield
        finally:
            await function.stop()
            await config.authorizer.aclose()

    lifecycle = Starlette(lifespan=lifespan)

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await lifecycle(scope, receive, send)
            return
        response = await _serve(Request(scope, receive), config, function)
        await response(scope, receive, send)

    return gateway


async def _serve(request: Request, config: GatewayConfig, function: Integration) -> Response:
    request_id = new_request_id()
    access = AccessRecord(
        request_id,
        request.client.host if request.client else "",
        request.method,
        request.url.path,
    )
    try:
        if config.cors is not None and _preflight_answered_by_gateway(request):
            answer = preflight_response(config.cors, request.headers)
        else:
            answer = await _answer(request, config, function, access)
            if config.cors is not None:
                apply_cors(config.cors, request.headers, answer)
    except Exception:  # a fault of the emulator's own: still API Gateway's shape
        logger.exception("the gateway emulator failed (%s)", request_id)
        answer = gateway_error(500, "Internal Server Error")
    answer.headers["apigw-requestid"] = request_id
    access.log(answer.status_code)
    return answer


def _preflight_answered_by_gateway(request: Request) -> bool:
    """A CORS preflight that no route with an authorizer catches first."""
    if not is_preflight(request.method, request.headers):
        return False
    route, _ = match_route(request.method, request.url.path)
    return route is None or route.public


async def _answer(
    request: Request, config: GatewayConfig, function: Integration, access: AccessRecord
) -> Response:
    request_id = access.request_id
    scope = request.scope
    raw_path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
    raw_query = scope.get("query_string", b"").decode("latin-1")
    line = f"{request.method} {raw_path}{'?' + raw_query if raw_query else ''} HTTP/1.1"
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    if len(line) + sum(len(v) for _, v in headers) > config.max_headers:
        return gateway_error(431, "Request Header Fields Too Large")
    body = await _read_body(request, config.max_payload)
    if body is None:
        return gateway_error(413, "Request Entity Too Large")
    route, parameters = match_route(request.method, request.url.path, cors=config.cors is not None)
    if route is None:
        return gateway_error(404, "Not Found")
    access.route_key = route.route_key
    if config.throttle is not None and not config.throttle.admit(route.route_key):
        access.throttled = "stage"
        return gateway_error(429, "Too Many Requests")
    claims = None
    if not route.public:
        # API Gateway joins repeated lines with a comma before its authorizer reads them.
        authorization = ", ".join(request.headers.getlist("authorization")) or None
        verdict = await config.authorizer.authorize(authorization)
        if isinstance(verdict, Denied):
            challenge = {"www-authenticate": verdict.www_authenticate}
            message = "Forbidden" if verdict.status == 403 else "Unauthorized"
            return gateway_error(verdict.status, message, challenge)
        claims = verdict
    event = http_api_event(
        method=request.method,
        raw_path=raw_path,
        raw_query=raw_query,
        headers=_forwarded(request, headers),
        body=body,
        source_ip=request.client.host if request.client else "127.0.0.1",
        route=route,
        path_parameters=parameters,
        claims=claims,
        request_id=request_id,
    )
    if config.events is not None:
        config.events.append(event)
    context = LambdaContext(config.function_name, config.memory_limit_in_mb, time.monotonic())
    invoked = time.monotonic()
    try:
        result = await function.invoke(event, context, config.timeout)
    except TimeoutError:
        logger.warning("integration timed out after %.1fs (%s)", config.timeout, request_id)
        return gateway_error(504, "Endpoint request timed out")
    except FunctionError as exc:
        logger.error("Lambda answered with an error (%s): %s", request_id, exc)
        return gateway_error(500, "Internal Server Error")
    except Exception:
        logger.exception("the function raised (%s)", request_id)
        return gateway_error(500, "Internal Server Error")
    finally:
        access.served(context.served, time.monotonic() - invoked)
    try:
        return to_response(result)
    except MalformedResponse as exc:
        logger.error("malformed Lambda proxy response (%s): %s", request_id, exc)
        return gateway_error(502, "Internal Server Error")


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None once it is larger than ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _forwarded(request: Request, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The request's headers as the integration sees them: API Gateway sets the forwarded
    port and protocol, appends the caller to ``x-forwarded-for`` and adds a trace id."""
    client = request.client.host if request.client else "127.0.0.1"
    port = request.url.port or (443 if request.url.scheme == "https" else 80)
    replaced = {"x-forwarded-port", "x-forwarded-proto", "x-amzn-trace-id"}
    kept = [(k, v) for k, v in headers if k.lower() not in replaced]
    return [
        *kept,
        ("x-forwarded-for", client),
        ("x-forwarded-port", str(port)),
        ("x-forwarded-proto", request.url.scheme),
        ("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"),
    ]
