"""Lambda event sources: one handler class per kind of HTTP event, chosen by ``infer``.

As Mangum's ``handlers/`` (and Powertools' one resolver per source): each class is Mangum's
handler for its source, extended with the checks its events need, where its API is mounted and
what its proxy response must not contain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mangum.types import LambdaConfig

from app.aws_lambda.sources.alb import Alb
from app.aws_lambda.sources.api_gateway import HttpApi, HttpApiV1, RestApi
from app.aws_lambda.sources.base import BadEvent, EventSource, NotHttpEvent

HTTP_KEYS = frozenset({"httpMethod", "rawPath", "routeKey", "resource", "version"})
# In this order: an ALB event has httpMethod too, and an HTTP API 1.0 event as a REST API's.
SOURCES: tuple[type[EventSource], ...] = (Alb, HttpApi, HttpApiV1, RestApi)

__all__ = ["SOURCES", "BadEvent", "EventSource", "NotHttpEvent", "infer"]


def infer(event: object, context: Any, config: LambdaConfig) -> EventSource:
    """The handler for ``event``, or ``BadEvent`` / ``NotHttpEvent`` saying why there is none."""
    if not isinstance(event, Mapping) or not (HTTP_KEYS & event.keys()):
        raise NotHttpEvent(
            "not an HTTP event: this function serves API Gateway, function URL and ALB requests"
        )
    if not isinstance(event.get("requestContext"), Mapping):
        raise BadEvent("missing requestContext")
    version = event.get("version")
    if version not in ("1.0", "2.0", None):
        raise BadEvent(f"unsupported payload format version {version!r}")
    for source in SOURCES:
        if source.infer(event, context, config):
            return source(event, context, config)
    if version == "1.0" or "resource" in event:
        raise BadEvent("missing httpMethod")
    raise BadEvent("missing payload format version")
