"""Lambda HTTP events: what kind each is, whether it is well formed, where the API is mounted.

Mangum trusts its events: a missing ``requestContext``, ``headers: null``, a body that is not
base64, a ``Host`` of ``example.com:`` or ``x-forwarded-port: 443,80`` make it raise, and Lambda
turns that into a 502 with a traceback in the logs. Every event is checked here first; whatever
is wrong becomes a ``BadEvent`` with a reason the handler answers as a JSON 400.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import unquote

EventKind = Literal["http-v2", "http-v1", "alb"]

HTTP_KEYS = frozenset({"httpMethod", "rawPath", "routeKey", "resource", "version"})
TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
HOST = re.compile(r"^[A-Za-z0-9._~%!$&'()*+,;=-]+(?::(?P<port>[0-9]{1,5}))?$")
PORT = re.compile(r"^[0-9]{1,5}$")
PATH_VARIABLE = re.compile(r"\{([^{}]+)\}")
# What API Gateway accepts as a stage name, and as a base path mapping (one or more levels).
STAGE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
BASE_PATH = re.compile(r"^(?:/[A-Za-z0-9$_.+!*'()-]+)+$")


class BadEvent(ValueError):
    """An HTTP event that cannot be served as it is (answered with a 400)."""


class NotHttpEvent(BadEvent):
    """An event from a source that is not an HTTP front door (S3, SQS, a test string...)."""


def classify(event: object) -> EventKind:
    """The kind of HTTP event, or ``BadEvent`` / ``NotHttpEvent`` saying why it is none."""
    if not isinstance(event, Mapping) or not (HTTP_KEYS & event.keys()):
        raise NotHttpEvent(
            "not an HTTP event: this function serves API Gateway, function URL and ALB requests"
        )
    context = event.get("requestContext")
    if not isinstance(context, Mapping):
        raise BadEvent("missing requestContext")
    version = event.get("version")
    if version not in ("1.0", "2.0", None):
        raise BadEvent(f"unsupported payload format version {version!r}")
    if "elb" in context:
        return "alb"
    if version == "2.0":
        return "http-v2"
    if "httpMethod" in event:
        return "http-v1"
    if version == "1.0" or "resource" in event:
        raise BadEvent("missing httpMethod")
    raise BadEvent("missing payload format version")


def check(kind: EventKind, event: Mapping[str, Any]) -> None:
    """Raise ``BadEvent`` unless every field Mangum and the app read is present and well typed."""
    context: Mapping[str, Any] = event["requestContext"]
    if kind == "http-v2":
        http = context.get("http")
        if not isinstance(http, Mapping):
            raise BadEvent("missing requestContext.http")
        _token(http.get("method"), "requestContext.http.method")
        _path(http.get("path"), "requestContext.http.path")
        _path(event.get("rawPath"), "rawPath")
        _str(http.get("sourceIp"), "requestContext.http.sourceIp")
        if "rawQueryString" in event:
            _str(event["rawQueryString"], "rawQueryString")
        _str_list(event.get("cookies"), "cookies", optional=True)
        headers = _str_map(event.get("headers", {}), "headers")
    else:
        _token(event.get("httpMethod"), "httpMethod")
        _path(event.get("path"), "path")
        multi = event.get("multiValueHeaders")
        # An ALB with multi-value headers on sends only multiValueHeaders.
        absent_ok = kind != "alb" or isinstance(multi, Mapping)
        headers = _str_map(event.get("headers", {} if absent_ok else None), "headers")
        if multi is not None:
            for name, values in _mapping(multi, "multiValueHeaders").items():
                _str_list(values, f"multiValueHeaders.{name}")
            headers = {**headers, **{k: ", ".join(v) for k, v in multi.items()}}
        _str_map(event.get("queryStringParameters"), "queryStringParameters", optional=True)
        queries = event.get("multiValueQueryStringParameters")
        if queries is not None:
            for name, values in _mapping(queries, "multiValueQueryStringParameters").items():
                _str_list(values, f"multiValueQueryStringParameters.{name}")
        if "identity" in context:
            _mapping(context["identity"], "requestContext.identity")
    _check_body(event)
    _check_forwarding({name.lower(): value for name, value in headers.items()})


def root_path(kind: EventKind, event: Mapping[str, Any]) -> tuple[str, str]:
    """``(root_path, path)``: where the API is mounted and the full (decoded) request path.

    The root path is only ever what API Gateway itself puts in front of the route: the route
    template with its path parameters filled in is the app's own path, and what the client's
    path has in front of it must be the stage (``/prod``) or, on a REST API (payload 1.0), a
    custom domain's base path mapping (``/api``); anything else is a ``BadEvent``. Both are
    names API Gateway restricts to URI-safe characters, so the root path never carries text a
    client chose into a ``Location`` or ``Link`` header. Payload 2.0 ``rawPath`` carries the
    stage of a named stage but never an API mapping; payload 1.0 ``path`` carries the mapping
    and ``requestContext.path`` the stage.
    """
    context: Mapping[str, Any] = event["requestContext"]
    if kind == "alb":
        return "", unquote(event["path"])
    stage = context.get("stage")
    stage = stage if isinstance(stage, str) and STAGE.fullmatch(stage) else None
    if kind == "http-v2":
        candidates = [event["rawPath"]]
        route_key = event.get("routeKey")
        template = route_key.partition(" ")[2] if isinstance(route_key, str) else ""
    else:
        candidates = [event["path"], context.get("path")]
        resource = event.get("resource")
        template = resource if isinstance(resource, str) else ""
    full_paths = [unquote(path) for path in candidates if isinstance(path, str) and path]
    relative = _fill(template, event.get("pathParameters"))
    if relative:
        mounts = {"", f"/{stage}"} if stage else {""}
        ending = [full for full in full_paths if full.endswith(relative)]
        for full in sorted(ending, key=len, reverse=True):
            prefix = full[: -len(relative)]
            if prefix in mounts or (kind != "http-v2" and BASE_PATH.fullmatch(prefix)):
                return prefix, full
        if ending:
            expected = "its stage" if kind == "http-v2" else "its stage or base path mapping"
            raise BadEvent(f"the path in front of the route is not {expected}")
    if stage:
        for full in full_paths:
            if full == f"/{stage}" or full.startswith(f"/{stage}/"):
                return f"/{stage}", full
    return "", unquote(event["rawPath"] if kind == "http-v2" else event["path"])


def _fill(template: str, parameters: object) -> str | None:
    """The template ``/orders/{proxy+}`` with its parameters filled in, or None if it cannot be."""
    if not template.startswith("/"):
        return None
    if "{" not in template:
        return template  # a static route (GET /hi): nothing to fill
    values = parameters if isinstance(parameters, Mapping) else {}
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        found = values.get(match.group(1).removesuffix("+"))
        if not isinstance(found, str):
            missing = True
            return ""
        return found

    filled = PATH_VARIABLE.sub(value, template)
    return None if missing else filled


def _check_body(event: Mapping[str, Any]) -> None:
    body = event.get("body")
    encoded = event.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        raise BadEvent("isBase64Encoded is not a boolean")
    if body is None:
        return
    if not isinstance(body, str):
        raise BadEvent("body is not a string")
    if encoded:
        try:
            b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadEvent("body is not valid base64") from None


def _check_forwarding(headers: Mapping[str, str]) -> None:
    host = headers.get("host", "")
    match = HOST.match(host)
    if host and (match is None or not _valid_port(match.group("port"), optional=True)):
        raise BadEvent("invalid Host header")
    port = headers.get("x-forwarded-port")
    if port is not None and not (PORT.match(port) and _valid_port(port)):
        raise BadEvent("invalid X-Forwarded-Port header")
    if headers.get("x-forwarded-proto", "https") not in ("http", "https"):
        raise BadEvent("invalid X-Forwarded-Proto header")


def _valid_port(port: str | None, *, optional: bool = False) -> bool:
    if port is None:
        return optional
    return 0 < int(port) < 65536


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadEvent(f"{field} is not an object")
    return value


def _str_map(value: object, field: str, *, optional: bool = False) -> Mapping[str, str]:
    if value is None and optional:
        return {}
    mapping = _mapping(value, field)
    for k, v in mapping.items():
        if not (isinstance(k, str) and isinstance(v, str)):
            raise BadEvent(f"{field} must map strings to strings")
    return mapping


def _str_list(value: object, field: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadEvent(f"{field} must be a list of strings")


def _str(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise BadEvent(f"missing {field}")
    return value


def _token(value: object, field: str) -> None:
    if not TOKEN.match(_str(value, field)):
        raise BadEvent(f"invalid {field}")


def _path(value: object, field: str) -> None:
    if not _str(value, field).startswith("/"):
        raise BadEvent(f"invalid {field}")
