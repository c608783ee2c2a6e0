"""API Gateway's events: HTTP API payload 2.0 (and function URLs), HTTP API 1.0, REST API.

Each class is Mangum's handler for its source with the checks, the root path and the response
fix of that source, and a ``scope`` built once per event: Mangum's ``scope`` is a property that
rebuilds the whole scope (every header re-encoded) on each access, and its ``__call__`` reads it
again only to look at the event's version.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from mangum.handlers import APIGateway, HTTPGateway
from mangum.types import LambdaConfig
from starlette.types import Scope

from app.aws_lambda.sources.base import (
    BadEvent,
    ProxyResponse,
    check_common,
    check_payload_v1,
    mounted,
    require_path,
    require_str,
    require_str_list,
    require_str_map,
    require_token,
)


class HttpApi(HTTPGateway):
    """HTTP API payload 2.0, also what function URLs send."""

    @classmethod
    def infer(cls, event: Any, context: Any, config: LambdaConfig) -> bool:
        return bool(event.get("version") == "2.0")

    @cached_property
    def scope(self) -> Scope:
        return super().scope

    def check(self) -> None:
        event = self.event
        http = event["requestContext"].get("http")
        if not isinstance(http, Mapping):
            raise BadEvent("missing requestContext.http")
        require_token(http.get("method"), "requestContext.http.method")
        require_path(http.get("path"), "requestContext.http.path")
        require_path(event.get("rawPath"), "rawPath")
        require_str(http.get("sourceIp"), "requestContext.http.sourceIp")
        if "rawQueryString" in event:
            require_str(event["rawQueryString"], "rawQueryString")
        require_str_list(event.get("cookies"), "cookies", optional=True)
        check_common(event, require_str_map(event.get("headers", {}), "headers"))

    def root_path(self) -> tuple[str, str]:
        """Payload 2.0 ``rawPath`` carries the stage of a named stage, never an API mapping."""
        route_key = self.event.get("routeKey")
        template = route_key.partition(" ")[2] if isinstance(route_key, str) else ""
        raw_path = self.event["rawPath"]
        return mounted(self.event, [raw_path], template, base_path_ok=False, fallback=raw_path)

    def fix_response(self, response: ProxyResponse, app_headers: list[list[bytes]]) -> None:
        headers: dict[str, str] = response.get("headers") or {}
        if not any(header[0].lower() == b"content-type" for header in app_headers):
            headers.pop("content-type", None)  # Mangum invents application/json
        response["headers"] = headers


class _PayloadV1:
    """Payload 1.0: ``path`` carries a base path mapping, ``requestContext.path`` the stage."""

    event: Any

    def check(self) -> None:
        check_common(self.event, check_payload_v1(self.event, alb=False))

    def root_path(self) -> tuple[str, str]:
        event = self.event
        resource = event.get("resource")
        template = resource if isinstance(resource, str) else ""
        candidates = [event["path"], event["requestContext"].get("path")]
        return mounted(event, candidates, template, base_path_ok=True, fallback=event["path"])

    def fix_response(self, response: ProxyResponse, app_headers: list[list[bytes]]) -> None:
        response.setdefault("headers", {})


class HttpApiV1(_PayloadV1, HTTPGateway):
    """HTTP API payload 1.0 (it names its version; a REST API's event does not)."""

    @classmethod
    def infer(cls, event: Any, context: Any, config: LambdaConfig) -> bool:
        return "version" in event and "httpMethod" in event

    @cached_property
    def scope(self) -> Scope:
        return super().scope


class RestApi(_PayloadV1, APIGateway):
    """REST API proxy integration."""

    @classmethod
    def infer(cls, event: Any, context: Any, config: LambdaConfig) -> bool:
        return "httpMethod" in event

    @cached_property
    def scope(self) -> Scope:
        return super().scope
