"""An httpx transport that serves requests through the Lambda handler, as API Gateway would.

Each ``httpx.Request`` becomes an API Gateway proxy event (HTTP API payload 2.0, or REST API
payload 1.0), the handler is called with it exactly as the Lambda runtime calls it (on one
thread, one invocation at a time), and the proxy response it returns becomes the
``httpx.Response``. Events (payload 2.0) and responses go through what the local gateway
(``devtools.gateway``) uses: one harness for both. The test user named in ``x-test-user`` is
the verified JWT's ``sub`` claim in the event's authorizer context; the header itself is not
forwarded.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote

import httpx

from app.contract.gateway_routes import match_route
from devtools.gateway.events import routed_event
from devtools.gateway.responses import to_response
from tests.support import TEST_USER_HEADER

ISSUER = "https://issuer.example"
PayloadVersion = Literal["2.0", "1.0"]
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class FakeLambdaContext:
    """The attributes of the Lambda context object the handler reads."""

    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_name: str = "orders-api"
    memory_limit_in_mb: int = 512


class LambdaInvoker:
    """Runs a handler the way one Lambda execution environment does: one thread, serially."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda")

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True)


class LambdaTransport(httpx.AsyncBaseTransport):
    """httpx → API Gateway event → ``handler(event, context)`` → proxy response → httpx."""

    def __init__(
        self,
        handler: Handler,
        invoker: LambdaInvoker,
        *,
        version: PayloadVersion = "2.0",
        stage: str = "$default",
    ) -> None:
        self.handler = handler
        self.invoker = invoker
        self.version = version
        self.stage = stage
        self.events: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        make = http_api_event if self.version == "2.0" else rest_api_event
        event = make(request, body, stage=self.stage)
        self.events.append(event)
        result = await self.invoker.run(self.handler, event, FakeLambdaContext())
        return to_httpx_response(result, request)


def _headers(request: httpx.Request) -> list[tuple[str, str]]:
    scheme = request.url.scheme
    port = request.url.port or (443 if scheme == "https" else 80)
    forwarded = [("x-forwarded-proto", scheme), ("x-forwarded-port", str(port))]
    return [
        (name.lower(), value)
        for name, value in request.headers.multi_items()
        if name.lower() not in (TEST_USER_HEADER, "x-forwarded-proto", "x-forwarded-port")
    ] + forwarded


def _body(body: bytes) -> tuple[str | None, bool]:
    if not body:
        return None, False
    try:
        return body.decode(), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode(), True


def http_api_event(request: httpx.Request, body: bytes, *, stage: str) -> dict[str, Any]:
    """An HTTP API (payload format 2.0) event for ``request``, as the local gateway builds it."""
    user = request.headers.get(TEST_USER_HEADER)
    claims = None if user is None else {"sub": user, "iss": ISSUER, "token_use": "access"}
    return routed_event(
        request.method,
        request.url.raw_path.split(b"?")[0].decode(),
        stage=stage,
        raw_query=request.url.query.decode(),
        headers=_headers(request),
        body=body,
        claims=claims,
    )


def rest_api_event(request: httpx.Request, body: bytes, *, stage: str) -> dict[str, Any]:
    """A REST API (Lambda proxy integration, payload 1.0) event for ``request``."""
    path = unquote(request.url.raw_path.split(b"?")[0].decode())
    route, parameters = match_route(request.method, path)
    resource = route.path if route else "/{proxy+}"
    if route is None:  # a catch-all resource, or the root resource
        resource, parameters = ("/", None) if path == "/" else ("/{proxy+}", {"proxy": path[1:]})
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in _headers(request):
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(request.url.query.decode(), keep_blank_values=True):
        query.setdefault(key, []).append(value)
    user = request.headers.get(TEST_USER_HEADER)
    text, encoded = _body(body)
    stage_prefix = "" if stage == "$default" else f"/{stage}"
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api-id",
        "domainName": request.url.host,
        "httpMethod": request.method,
        "identity": {"sourceIp": "203.0.113.7", "userAgent": headers.get("user-agent")},
        "path": stage_prefix + path,
        "protocol": "HTTP/1.1",
        "requestId": str(uuid.uuid4()),
        "resourcePath": resource,
        "stage": stage,
    }
    if user is not None:
        context["authorizer"] = {"claims": {"sub": user, "token_use": "id"}}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": parameters,
        "stageVariables": None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": encoded,
    }


def check_proxy_response(result: object) -> dict[str, Any]:
    """``result`` if it is a well-formed proxy response; AssertionError says what is wrong."""
    assert isinstance(result, dict), result
    assert type(result.get("statusCode")) is int, result
    assert 100 <= result["statusCode"] <= 599, result
    assert isinstance(result.get("body"), str), result
    assert type(result.get("isBase64Encoded")) is bool, result
    headers = result.get("headers", {})
    assert isinstance(headers, dict), result
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()), result
    multi = result.get("multiValueHeaders", {})
    assert isinstance(multi, dict), result
    for name, values in multi.items():
        assert isinstance(name, str), result
        assert isinstance(values, list), result
        assert all(isinstance(v, str) for v in values), result
    assert "headers" in result or "multiValueHeaders" in result, result
    cookies = result.get("cookies", [])
    assert isinstance(cookies, list), result
    assert all(isinstance(c, str) for c in cookies), result
    # API Gateway reads the response as UTF-8 JSON: every string in it must have a UTF-8 spelling.
    json.dumps(result, ensure_ascii=False).encode()
    return result


def to_httpx_response(result: object, request: httpx.Request) -> httpx.Response:
    """The HTTP response API Gateway would send for the proxy response ``result``: checked
    strictly, then turned into HTTP by the local gateway's own rules."""
    response = to_response(check_proxy_response(result))
    return httpx.Response(
        response.status_code,
        headers=response.raw_headers,
        content=bytes(response.body),
        request=request,
    )
