"""The gateway's access log: one record per request, as a readable line or as JSON.

The JSON document carries what API Gateway's access logging offers as ``$context`` variables
(request id, caller, method, route key, path, status, latencies:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html)
and what the local Lambda service adds: which environment served the request, how it started
(``cold``: it ran init first, ``restore``: it restored the snapshot, ``warm``) and whether it
was throttled (``stage``: the route's throttle answered 429, ``lambda``: the function's
reserved concurrency refused the invocation, which API Gateway answers with 500).

``python -m devtools.gateway --log-format lines|json`` picks one of the two formatters below
for the terminal; ``--log-file`` writes the JSON.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field

logger = logging.getLogger("devtools.gateway.access")


@dataclass
class Served:
    """What the integration tells the access log about one invocation."""

    environment: int | None = None  # the local Lambda service's environment index
    start: str | None = None  # "cold", "restore" or "warm"
    throttled: bool = False  # the function's concurrency refused it


@dataclass
class AccessRecord:
    """One request as the gateway answered it."""

    request_id: str
    ip: str
    method: str
    path: str
    route_key: str | None = None  # None: no route matched
    status: int = 0
    latency_ms: float = 0.0  # from the request's arrival to the response's headers
    integration_latency_ms: float | None = None  # the invocation alone
    environment: int | None = None
    start: str | None = None
    throttled: str | None = None  # "stage" or "lambda"
    arrived: float = field(default_factory=time.monotonic)  # when the request arrived

    def served(self, served: Served, integration_seconds: float) -> None:
        self.environment = served.environment
        self.start = served.start
        self.throttled = "lambda" if served.throttled else self.throttled
        self.integration_latency_ms = integration_seconds * 1000

    def text(self) -> str:
        """``POST /orders 201 35 ms env 2 restore`` (the route's template, e.g.
        ``/orders/{order_id}``; the path when no route matched)."""
        route = self.route_key.split(" ", 1)[1] if self.route_key else self.path
        parts = [self.method, route, str(self.status), f"{self.latency_ms:.0f} ms"]
        if self.environment is not None:
            parts.append(f"env {self.environment}")
        if self.start is not None:
            parts.append(self.start)
        if self.throttled is not None:
            parts.append(f"throttled ({self.throttled})")
        return " ".join(parts)

    def document(self) -> dict[str, object]:
        fields = asdict(self)
        del fields["arrived"]
        return {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "type": "gateway.access",
            **{k: round(v, 2) if isinstance(v, float) else v for k, v in fields.items()},
        }

    def log(self, status: int) -> None:
        self.status = status
        self.latency_ms = (time.monotonic() - self.arrived) * 1000
        logger.info("%s", self.text(), extra={"access": self})


class LinesFormatter(logging.Formatter):
    """``HH:MM:SS <the record's text()>``: one readable line per request."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        access = getattr(record, "access", None)
        text = access.text() if isinstance(access, AccessRecord) else record.getMessage()
        return f"{stamp} {text}"


class JsonFormatter(logging.Formatter):
    """One JSON document per line (the access record's, else the message's)."""

    def format(self, record: logging.LogRecord) -> str:
        access = getattr(record, "access", None)
        if isinstance(access, AccessRecord):
            return json.dumps(access.document())
        return json.dumps({"level": record.levelname, "message": record.getMessage()})
