"""Where the DynamoDB store connects, parsed from ``dynamodb://<table>?region=..&endpoint=..``.

Only the standard library here: parsing a URL must not import the DynamoDB client stack.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

# DynamoDB's own rule for table names.
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_OPTIONS = frozenset({"region", "endpoint", "connect_timeout", "read_timeout", "retry_budget"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``budget`` seconds bound all attempts and waits of one store operation, and are used."""

    budget: float = 5.0
    min_attempt: float = 0.05  # the least time left worth another attempt
    base_delay: float = 0.05
    max_delay: float = 1.0
    retry_after: int = 1  # seconds, told to HTTP clients once the budget is spent

    def delay(self, retry: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**retry)]."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**retry))  # noqa: S311


@dataclass(frozen=True, slots=True)
class DynamoDBConfig:
    """One table in one region; ``endpoint`` points at a DynamoDB-compatible server."""

    table: str
    region: str
    endpoint: str | None = None
    connect_timeout: float = 1.0
    read_timeout: float = 2.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_url(cls, url: str, environ: Mapping[str, str] | None = None) -> DynamoDBConfig:
        """Parse a store URL; the region falls back to ``AWS_REGION``/``AWS_DEFAULT_REGION``,
        the endpoint to the AWS SDKs' ``AWS_ENDPOINT_URL_DYNAMODB``/``AWS_ENDPOINT_URL``."""
        env = os.environ if environ is None else environ
        parts = urlsplit(url)
        if parts.scheme != "dynamodb" or parts.path not in ("", "/"):
            raise ValueError(f"Expected dynamodb://<table>[?region=..&endpoint=..], got {url!r}")
        table = parts.netloc
        if not _TABLE_NAME.fullmatch(table):
            raise ValueError(f"Invalid DynamoDB table name {table!r} in {url!r}")
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
        unknown = set(query) - _OPTIONS
        if unknown or any(len(values) != 1 for values in query.values()):
            raise ValueError(f"Unknown or repeated DynamoDB store options in {url!r}")
        options = {key: values[0] for key, values in query.items()}
        region = options.get("region") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if not region:
            raise ValueError(f"No AWS region: add ?region= to {url!r} or set AWS_REGION")
        endpoint = (
            options.get("endpoint")
            or env.get("AWS_ENDPOINT_URL_DYNAMODB")
            or env.get("AWS_ENDPOINT_URL")
            or None
        )
        if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
            raise ValueError(f"DynamoDB endpoint must be an http(s) URL, got {endpoint!r}")
        defaults = cls(table=table, region=region)
        return cls(
            table=table,
            region=region,
            endpoint=endpoint,
            connect_timeout=_seconds(options, "connect_timeout", defaults.connect_timeout),
            read_timeout=_seconds(options, "read_timeout", defaults.read_timeout),
            retry=RetryPolicy(budget=_seconds(options, "retry_budget", defaults.retry.budget)),
        )


def _seconds(options: Mapping[str, str], name: str, default: float) -> float:
    if name not in options:
        return default
    raw = options[name]
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 25:  # stay well inside API Gateway's 30 s
        raise ValueError(f"{name} must be a number of seconds in (0, 25], got {raw!r}")
    return value
