"""What every Lambda HTTP event source shares: its errors, its checks, where the API is mounted.

Mangum trusts its events: a missing ``requestContext``, ``headers: null``, a body that is not
base64, a ``Host`` of ``example.com:`` or ``x-forwarded-port: 443,80`` make it raise, and Lambda
turns that into a 502 with a traceback in the logs. Every event is checked here first; whatever
is wrong becomes a ``BadEvent`` with a reason the handler answers as a JSON 400. Each source
(``alb``, ``api_gateway``) is a Mangum handler class that checks its own events.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import unquote

from mangum.types import LambdaConfig, LambdaHandler
from starlette.types import Scope

ProxyResponse = dict[str, Any]

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


class EventSource(LambdaHandler, Protocol):
    """A Mangum handler class for one kind of HTTP event that also checks its events first."""

    @classmethod
    def infer(cls, event: Any, context: Any, config: LambdaConfig) -> bool: ...

    @property
    def scope(self) -> Scope: ...

    def check(self) -> None:
        """Raise ``BadEvent`` unless every field Mangum and the app read is there, well typed."""

    def root_path(self) -> tuple[str, str]:
        """``(root_path, path)``: where the API is mounted and the full (decoded) path."""

    def fix_response(self, response: ProxyResponse, app_headers: list[list[bytes]]) -> None:
        """Undo what Mangum's response for this source gets wrong."""


def check_common(event: Mapping[str, Any], headers: Mapping[str, str]) -> None:
    """The checks every source's event needs: its body, and the forwarding headers."""
    _check_body(event)
    _check_forwarding({name.lower(): value for name, value in headers.items()})


def check_payload_v1(event: Mapping[str, Any], *, alb: bool) -> Mapping[str, str]:
    """The fields of a payload 1.0 shaped event (REST API, HTTP API 1.0, ALB); its headers."""
    context: Mapping[str, Any] = event["requestContext"]
    require_token(event.get("httpMethod"), "httpMethod")
    require_path(event.get("path"), "path")
    multi = event.get("multiValueHeaders")
    # An ALB with multi-value headers on sends only multiValueHeaders.
    absent_ok = not alb or isinstance(multi, Mapping)
    headers = require_str_map(event.get("headers", {} if absent_ok else None), "headers")
    if multi is not None:
        for name, values in require_mapping(multi, "multiValueHeaders").items():
            require_str_list(values, f"multiValueHeaders.{name}")
        headers = {**headers, **{k: ", ".join(v) for k, v in multi.items()}}
    require_str_map(event.get("queryStringParameters"), "queryStringParameters", optional=True)
    queries = event.get("multiValueQueryStringParameters")
    if queries is not None:
        for name, values in require_mapping(queries, "multiValueQueryStringParameters").items():
            require_str_list(values, f"multiValueQueryStringParameters.{name}")
    if "identity" in context:
        require_mapping(context["identity"], "requestContext.identity")
    return headers


def mounted(
    event: Mapping[str, Any],
    candidates: list[object],
    template: str,
    *,
    base_path_ok: bool,
    fallback: str,
) -> tuple[str, str]:
    """``(root_path, path)`` of an API Gateway event.

    The root path is only ever what API Gateway itself puts in front of the route: the route
    template with its path parameters filled in is the app's own path, and what the client's
    path has in front of it must be the stage (``/prod``) or, on a REST API (payload 1.0), a
    custom domain's base path mapping (``/api``); anything else is a ``BadEvent``. Both are
    names API Gateway restricts to URI-safe characters, so the root path never carries text a
    client chose into a ``Location`` or ``Link`` header. ``candidates``: the paths the event
    gives, ``fallback`` the one served when no route template applies.
    """
    context: Mapping[str, Any] = event["requestContext"]
    stage = context.get("stage")
    stage = stage if isinstance(stage, str) and STAGE.fullmatch(stage) else None
    full_paths = [unquote(path) for path in candidates if isinstance(path, str) and path]
    relative = _fill(template, event.get("pathParameters"))
    if relative:
        mounts = {"", f"/{stage}"} if stage else {""}
        ending = [full for full in full_paths if full.endswith(relative)]
        for full in sorted(ending, key=len, reverse=True):
            prefix = full[: -len(relative)]
            if prefix in mounts or (base_path_ok and BASE_PATH.fullmatch(prefix)):
                return prefix, full
        if ending:
            expected = "its stage or base path mapping" if base_path_ok else "its stage"
            raise BadEvent(f"the path in front of the route is not {expected}")
    if stage:
        for full in full_paths:
            if full == f"/{stage}" or full.startswith(f"/{stage}/"):
                return f"/{stage}", full
    return "", unquote(fallback)


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


def require_mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadEvent(f"{field} is not an object")
    return value


def require_str_map(value: object, field: str, *, optional: bool = False) -> Mapping[str, str]:
    if value is None and optional:
        return {}
    mapping = require_mapping(value, field)
    for k, v in mapping.items():
        if not (isinstance(k, str) and isinstance(v, str)):
            raise BadEvent(f"{field} must map strings to strings")
    return mapping


def require_str_list(value: object, field: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadEvent(f"{field} must be a list of strings")


def require_str(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise BadEvent(f"missing {field}")
    return value


def require_token(value: object, field: str) -> None:
    if not TOKEN.match(require_str(value, field)):
        raise BadEvent(f"invalid {field}")


def require_path(value: object, field: str) -> None:
    if not require_str(value, field).startswith("/"):
        raise BadEvent(f"invalid {field}")
