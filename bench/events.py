"""API Gateway HTTP API (payload 2.0) events for the Lambda benchmarks, from the AWS sample."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ORDER = {"order": [{"product": "flat white", "size": "small", "quantity": 1}]}


@cache
def _sample() -> dict[str, Any]:
    sample: dict[str, Any] = json.loads((ROOT / "tests/events/http-api-v2.json").read_text())
    sample["rawQueryString"], sample["body"], sample["cookies"] = "", None, []
    sample.pop("pathParameters", None)
    sample.pop("queryStringParameters", None)
    return sample


def http_event(
    method: str, path: str, route_key: str, *, sub: str | None = None, body: object = None
) -> dict[str, Any]:
    """``method path`` as the gateway sends it on ``route_key``; ``sub`` = the JWT's subject."""
    event = copy.deepcopy(_sample())
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = event["requestContext"]["routeKey"] = route_key
    if sub is None:
        event["requestContext"].pop("authorizer", None)
    else:
        claims = {"sub": sub, "token_use": "access"}
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    if body is not None:
        event["headers"]["content-type"] = "application/json"
        event["body"] = json.dumps(body)
    if path.startswith("/orders/"):
        event["pathParameters"] = {"proxy": path.removeprefix("/orders/")}
    return event


def hi_event() -> dict[str, Any]:
    return http_event("GET", "/hi", "GET /hi")


def create_event(sub: str) -> dict[str, Any]:
    return http_event("POST", "/orders", "ANY /orders", sub=sub, body=ORDER)


def get_event(sub: str, order_id: str) -> dict[str, Any]:
    return http_event("GET", f"/orders/{order_id}", "ANY /orders/{proxy+}", sub=sub)
