"""A Lambda proxy response (payload format 2.0) → the HTTP response API Gateway sends."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from starlette.responses import JSONResponse, Response

TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # a header name (RFC 9110)
CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # never in a header value


class MalformedResponse(ValueError):
    """The function's answer is not a proxy response API Gateway can send."""


def gateway_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An answer of API Gateway's own: ``{"message": ...}``, as HTTP APIs send them."""
    return JSONResponse({"message": message}, status_code=status, headers=headers)


def to_response(result: object) -> Response:
    """The HTTP response for the function's ``result``; MalformedResponse if it has none.

    Payload 2.0 rules: a JSON object without ``statusCode`` is a 200 whose body is that object.
    """
    if isinstance(result, dict) and "statusCode" not in result:
        return Response(json.dumps(result), 200, media_type="application/json")
    if not isinstance(result, dict):
        raise MalformedResponse(f"the function returned {type(result).__name__}")
    status = result["statusCode"]
    if type(status) is not int or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status!r}")
    body = result.get("body", "")
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise MalformedResponse("body is not a string")
    encoded = result.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        raise MalformedResponse("isBase64Encoded is not a boolean")
    try:
        content = base64.b64decode(body, validate=True) if encoded else body.encode()
    except (binascii.Error, ValueError) as exc:
        raise MalformedResponse("body is not valid base64") from exc
    cookies = result.get("cookies", [])
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise MalformedResponse("cookies is not a list of strings")
    pairs = _pairs(result) + [("set-cookie", c) for c in cookies]
    try:
        raw = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in pairs]
    except UnicodeEncodeError as exc:
        raise MalformedResponse("a header is not Latin-1") from exc
    if any(not TOKEN.fullmatch(n) or CONTROL.search(v) for n, v in raw):
        raise MalformedResponse("a header name or value is not valid HTTP")
    response = Response(content, status)
    if status not in (204, 304) and not any(n == b"content-length" for n, _ in raw):
        raw.append((b"content-length", str(len(content)).encode()))
    response.raw_headers = raw
    return response


def _pairs(result: dict[str, Any]) -> list[tuple[str, str]]:
    headers = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(headers, dict) or not isinstance(multi, dict):
        raise MalformedResponse("headers is not an object")
    pairs = [(str(k), _header_value(v)) for k, v in headers.items()]
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResponse(f"multiValueHeaders[{name!r}] is not a list")
        pairs += [(str(name), _header_value(v)) for v in values]
    return pairs


def _header_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedResponse(f"header value {value!r} is not a string")
