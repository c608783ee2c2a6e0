"""The ids that tie one request's log lines, metrics and trace together.

- the X-Ray trace id: Lambda sets ``_X_AMZN_TRACE_ID`` for each invocation (with active tracing
  it names the function's segment); elsewhere the ``X-Amzn-Trace-Id`` header, when a load
  balancer or gateway sent one;
- API Gateway's request id (``requestContext.requestId``), also in the gateway's access log.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from starlette.types import Scope

TRACE_ENV = "_X_AMZN_TRACE_ID"
TRACE_HEADER = b"x-amzn-trace-id"
# What API Gateway's request ids are made of ("JKJaXmPLvHcESHA=", a UUID); anything else in an
# event is not quoted into log lines and metrics.
_REQUEST_ID = re.compile(r"[!-~]{1,128}")


def trace_id(scope: Scope | None = None) -> str | None:
    """The current trace id: Lambda's environment first, then the request's header."""
    from_env = os.environ.get(TRACE_ENV)
    if from_env:
        return from_env
    for name, value in (scope or {}).get("headers") or ():
        if name == TRACE_HEADER:
            return bytes(value).decode("latin-1")
    return None


def gateway_request_id(event: object) -> str | None:
    """``requestContext.requestId`` of an API Gateway (or ALB-less) Lambda event, else None."""
    context: Any = event.get("requestContext") if isinstance(event, Mapping) else None
    value = context.get("requestId") if isinstance(context, Mapping) else None
    return value if isinstance(value, str) and _REQUEST_ID.fullmatch(value) else None
