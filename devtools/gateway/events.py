"""HTTP request → API Gateway HTTP API payload format 2.0 event, as API Gateway builds it."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from app.contract.gateway_routes import GatewayRoute, match_route

ACCOUNT_ID = "123456789012"
API_ID = "local"
STAGE = "$default"
# API Gateway hands these on as text; any other body reaches the function base64-encoded.
TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded", "yaml")


def is_text(content_type: str | None, body: bytes) -> bool:
    """Whether API Gateway would pass ``body`` as text (else base64)."""
    if content_type is None or not any(t in content_type.lower() for t in TEXT_TYPES):
        return False
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def stringify_claim(value: Any) -> str:
    """A claim value as API Gateway's JWT authorizer hands it on: always a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(stringify_claim(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def http_api_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    route: GatewayRoute | None,
    path_parameters: Mapping[str, str] | None,
    claims: Mapping[str, Any] | None,
    request_id: str | None = None,
    now: float | None = None,
    stage: str = STAGE,
) -> dict[str, Any]:
    """The event API Gateway sends the Lambda integration for one request.

    ``headers`` are the request's raw (name, value) pairs; ``claims`` the verified token's
    claims on a protected route (None on a public one).
    """
    now = time.time() if now is None else now
    route_key = route.route_key if route else "$default"
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        name = name.lower()
        if name == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        else:
            joined[name] = f"{joined[name]},{value}" if name in joined else value
    host = joined.get("host", "localhost").rsplit(":", 1)[0]
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    request_context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": host,
        "domainPrefix": host.split(".")[0],
        "http": {
            "method": method,
            "path": unquote(raw_path),
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": joined.get("user-agent", ""),
        },
        "requestId": request_id or new_request_id(),
        "routeKey": route_key,
        "stage": stage,
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        scope = claims.get("scope")
        scopes = scope.split() if isinstance(scope, str) and scope else None
        request_context["authorizer"] = {
            "jwt": {"claims": {k: stringify_claim(v) for k, v in claims.items()}, "scopes": scopes}
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body:
        if is_text(joined.get("content-type"), body):
            event["body"] = body.decode()
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def routed_event(
    method: str, raw_path: str, *, stage: str = STAGE, **fields: Any
) -> dict[str, Any]:
    """``http_api_event`` for ``method raw_path`` (the path below the stage), on the route and
    with the path parameters API Gateway's route table gives it. ``fields``: the other
    arguments of ``http_api_event`` (``raw_query``, ``headers``, ``body``, ``claims``...).
    """
    route, parameters = match_route(method, unquote(raw_path))
    prefix = "" if stage == STAGE else f"/{stage}"
    fields.setdefault("raw_query", "")
    fields.setdefault("headers", [])
    fields.setdefault("body", b"")
    fields.setdefault("source_ip", "203.0.113.7")
    fields.setdefault("claims", None)
    return http_api_event(
        method=method,
        raw_path=prefix + raw_path,
        route=route,
        path_parameters=parameters,
        stage=stage,
        **fields,
    )


def new_request_id() -> str:
    """An id shaped like API Gateway's (``apigw-requestid``), e.g. ``Jh2kPiGyoAMEVbg=``."""
    return base64.b64encode(uuid.uuid4().bytes[:10]).decode()
