"""Deployment knobs, read from CDK context (``cdk.json`` or ``-c key=value``) with defaults."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from app.contract.environment import GREET_DELAY_RANGE, LOG_LEVELS

Stage = Literal["dev", "prod"]
STAGES: tuple[Stage, ...] = ("dev", "prod")
T = TypeVar("T")

# CloudWatch Logs accepts only these retention periods: days → CDK ``RetentionDays`` member.
RETENTION_NAMES = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS",
    30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS",
    150: "FIVE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR", 400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS", 1827: "FIVE_YEARS",
    2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}  # fmt: skip
RETENTION_DAYS = tuple(RETENTION_NAMES)
MAX_INTEGRATION_SECONDS = 29  # an HTTP API waits at most 30 s for its integration
# How CodeDeploy may shift `live` (infra/deployment.py): each canary or linear shift keeps the new
# version on part of the traffic long enough for a rollback alarm to evaluate it.
DEPLOYMENTS = ("all-at-once", "canary-10-10m", "canary-10-15m", "linear-10-1m")


@dataclass(frozen=True, slots=True)
class Knob:
    """One context key: its name, default per stage and meaning (the README lists them all)."""

    key: str
    dev: object
    prod: object
    meaning: str


KNOBS: tuple[Knob, ...] = (
    Knob("stage", "dev", "prod", "`dev` or `prod`: names, removal policies, protections"),
    Knob("memory-mb", 512, 512, "Lambda memory (MB); CPU scales with it"),
    Knob("throttle-rate", 50, 100, "default-route steady rate limit (requests/s)"),
    Knob("throttle-burst", 100, 200, "default-route burst limit (requests)"),
    Knob("cors-origins", "", "", "allowed CORS origins, comma-separated; empty: no CORS"),
    Knob("greet-delay", 3.0, 3.0, "`GREET_DELAY` of the function (0 to 25 s)"),
    Knob("log-level", "INFO", "INFO", "`LOG_LEVEL`: the level of the function's loggers"),
    Knob("log-retention-days", 30, 365, "retention of function and access logs"),
    Knob("oidc-issuer", "", "", "existing OIDC issuer URL: use it instead of a Cognito pool"),
    Knob("oidc-audience", "", "", "audiences (comma-separated) the JWT must carry with it"),
    Knob("oidc-scopes", "", "", "with oidc-issuer: scopes (comma-separated), one required"),
    Knob("self-sign-up", False, False, "let anyone sign up to the Cognito pool"),
    Knob("reserved-concurrency", 10, 100, "the function's reserved concurrency (0: none)"),
    Knob("table-max-read-units", 100, 4000, "DynamoDB on-demand maximum reads per second"),
    Knob("table-max-write-units", 50, 2000, "DynamoDB on-demand maximum writes per second"),
    Knob(
        "deployment",
        "all-at-once",
        "canary-10-10m",
        "how CodeDeploy shifts `live`: " + ", ".join(f"`{name}`" for name in DEPLOYMENTS),
    ),
    Knob("alarm-email", "", "", "e-mail address subscribed to the alarm topic; empty: none"),
    Knob("alarm-errors", 5, 1, "Lambda errors (function failures) per period that alarm"),
    Knob("alarm-throttles", 5, 1, "Lambda throttles per period that alarm"),
    Knob("alarm-duration-percent", 80, 80, "p99 duration alarm, in % of the function timeout"),
    Knob("alarm-5xx-percent", 5, 1, "API 5xx share of requests (%) that alarms"),
    Knob(
        "alarm-latency-p99-ms",
        5000,
        5000,
        "API p99 latency (ms) that alarms (GET /hi awaits greet-delay)",
    ),
    Knob("alarm-dynamodb-throttles", 10, 1, "DynamoDB throttled requests per period that alarm"),
    Knob("alarm-dynamodb-errors", 5, 1, "DynamoDB system errors per period that alarm"),
    Knob("alarm-concurrency-percent", 80, 80, "concurrency alarm, in % of the reserved limit"),
)


@dataclass(frozen=True, slots=True)
class AlarmThresholds:
    """When each alarm fires (the ``alarm-*`` knobs)."""

    errors: int
    throttles: int
    duration_percent: int
    server_error_percent: float
    latency_p99_ms: int
    dynamodb_throttles: int
    dynamodb_errors: int
    concurrency_percent: int


@dataclass(frozen=True, slots=True)
class StageConfig:
    """Everything the stack varies by: one value per context knob."""

    stage: Stage
    memory_mb: int
    throttle_rate: float
    throttle_burst: int
    cors_origins: tuple[str, ...]
    greet_delay: float
    log_level: str
    log_retention_days: int
    oidc_issuer: str | None
    oidc_audience: tuple[str, ...]
    self_sign_up: bool
    reserved_concurrency: int
    table_max_read_units: int
    table_max_write_units: int
    deployment: str
    alarm_email: str | None
    alarms: AlarmThresholds
    oidc_scopes: tuple[str, ...] = ()

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"

    @property
    def stack_name(self) -> str:
        return f"OrdersApi-{self.stage}"

    @property
    def timeout_seconds(self) -> int:
        """Above the greeting delay, below the HTTP API's integration limit."""
        return min(MAX_INTEGRATION_SECONDS, max(10, math.ceil(self.greet_delay) + 5))

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> StageConfig:
        """Read every knob with ``get`` (e.g. ``node.try_get_context``); validate them all."""
        stage = _text(get("stage")) or "dev"
        if stage not in STAGES:
            raise ValueError(f"context stage must be one of {STAGES}, not {stage!r}")

        def value(key: str, parse: Callable[[Any], T]) -> T:
            raw = get(key)
            knob = next(k for k in KNOBS if k.key == key)
            default = knob.prod if stage == "prod" else knob.dev
            try:
                return parse(default if raw is None else raw)
            except ValueError as error:
                raise ValueError(f"context {key}={raw!r}: {error}") from None

        issuer = value("oidc-issuer", _text)
        audience = value("oidc-audience", _items)
        if bool(issuer) != bool(audience):
            raise ValueError("context oidc-issuer and oidc-audience go together")
        if issuer and not issuer.startswith("https://"):
            raise ValueError(f"context oidc-issuer must be an https:// URL, not {issuer!r}")
        retention = value("log-retention-days", int)
        if retention not in RETENTION_DAYS:
            raise ValueError(f"context log-retention-days must be one of {RETENTION_DAYS}")
        return cls(
            stage="prod" if stage == "prod" else "dev",
            memory_mb=value("memory-mb", _bounded(int, 128, 10240)),
            throttle_rate=value("throttle-rate", _bounded(float, 1, 10000)),
            throttle_burst=value("throttle-burst", _bounded(int, 1, 5000)),
            cors_origins=value("cors-origins", _items),
            greet_delay=value("greet-delay", _greet_delay),
            log_level=value("log-level", _log_level),
            log_retention_days=retention,
            oidc_issuer=issuer or None,
            oidc_audience=audience,
            self_sign_up=value("self-sign-up", _flag),
            oidc_scopes=value("oidc-scopes", _items),
            reserved_concurrency=value("reserved-concurrency", _bounded(int, 0, 10000)),
            table_max_read_units=value("table-max-read-units", _bounded(int, 1, 40000)),
            table_max_write_units=value("table-max-write-units", _bounded(int, 1, 40000)),
            deployment=value("deployment", _one_of(DEPLOYMENTS)),
            alarm_email=value("alarm-email", _email) or None,
            alarms=AlarmThresholds(
                errors=value("alarm-errors", _bounded(int, 1, 100000)),
                throttles=value("alarm-throttles", _bounded(int, 1, 100000)),
                duration_percent=value("alarm-duration-percent", _bounded(int, 1, 100)),
                server_error_percent=value("alarm-5xx-percent", _bounded(float, 0.1, 100)),
                latency_p99_ms=value("alarm-latency-p99-ms", _bounded(int, 1, 30000)),
                dynamodb_throttles=value("alarm-dynamodb-throttles", _bounded(int, 1, 100000)),
                dynamodb_errors=value("alarm-dynamodb-errors", _bounded(int, 1, 100000)),
                concurrency_percent=value("alarm-concurrency-percent", _bounded(int, 1, 100)),
            ),
        )


def _text(raw: Any) -> str:
    return str(raw).strip() if raw is not None else ""


def _items(raw: Any) -> tuple[str, ...]:
    """A list from cdk.json, or a comma-separated string from ``-c key=a,b``."""
    values = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return tuple(v for v in (str(x).strip() for x in values) if v)


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        text = str(raw).strip()
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return text

    return parse


def _email(raw: Any) -> str:
    text = _text(raw)
    if text and (text.count("@") != 1 or " " in text or "." not in text.split("@")[1]):
        raise ValueError("expected an e-mail address")
    return text


def _flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text not in {"true", "false"}:
        raise ValueError("expected true or false")
    return text == "true"


def _bounded(kind: Callable[[Any], T], low: float, high: float) -> Callable[[Any], T]:
    def parse(raw: Any) -> T:
        number = kind(raw)
        if not low <= float(number) <= high:  # type: ignore[arg-type]
            raise ValueError(f"expected {low}..{high}")
        return number

    return parse


# The app's own bounds for GREET_DELAY (one source: the contract the Settings field uses).
_greet_delay = _bounded(float, *GREET_DELAY_RANGE)


def _log_level(raw: Any) -> str:
    level = str(raw).strip().upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"expected {', '.join(LOG_LEVELS[:-1])} or {LOG_LEVELS[-1]}")
    return level
