"""Context knobs: defaults per stage, both CLI strings and cdk.json values, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.context import KNOBS, RETENTION_DAYS, StageConfig


def config(**context: Any) -> StageConfig:
    values = {key.replace("_", "-"): value for key, value in context.items()}
    return StageConfig.from_context(values.get)


def test_defaults_differ_by_stage() -> None:
    dev, prod = config(), config(stage="prod")
    assert (dev.stage, dev.is_prod, prod.stage, prod.is_prod) == ("dev", False, "prod", True)
    assert (dev.log_retention_days, prod.log_retention_days) == (30, 365)
    assert dev.oidc_issuer is None
    assert dev.cors_origins == ()
    assert not dev.self_sign_up
    assert dev.greet_delay == 3.0
    assert dev.timeout_seconds > dev.greet_delay


def test_operations_defaults_differ_by_stage() -> None:
    dev, prod = config(), config(stage="prod")
    assert (dev.deployment, prod.deployment) == ("all-at-once", "canary-10-10m")
    assert (dev.reserved_concurrency, prod.reserved_concurrency) == (10, 100)
    assert dev.alarm_email is None
    assert (dev.alarms.errors, prod.alarms.errors) == (5, 1)
    assert config(alarm_5xx_percent="2.5", alarm_email=" ops@example.com ").alarms == (
        config(alarm_5xx_percent=2.5).alarms
    )
    assert config(alarm_email=" ops@example.com ").alarm_email == "ops@example.com"


def test_cli_strings_and_json_values_mean_the_same() -> None:
    from_cli = config(
        cors_origins="https://a.example, https://b.example",
        self_sign_up="true",
        memory_mb="1024",
        greet_delay="2.5",
        log_level="warning",
    )
    from_json = config(
        cors_origins=["https://a.example", "https://b.example"],
        self_sign_up=True,
        memory_mb=1024,
        greet_delay=2.5,
        log_level="WARNING",
    )
    assert from_cli == from_json
    assert from_cli.cors_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(("delay", "timeout"), [(0, 10), (3, 10), (12.5, 18), (25, 29)])
def test_timeout_stays_above_the_delay_and_below_the_gateway_limit(
    delay: float, timeout: int
) -> None:
    assert config(greet_delay=delay).timeout_seconds == timeout


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"stage": "staging"}, "stage must be one of"),
        ({"greet_delay": "26"}, "greet-delay"),
        ({"greet_delay": "-1"}, "greet-delay"),
        ({"memory_mb": "64"}, "memory-mb"),
        ({"log_retention_days": "31"}, "log-retention-days"),
        ({"self_sign_up": "yes"}, "self-sign-up"),
        ({"log_level": "LOUD"}, "log-level"),
        ({"oidc_issuer": "https://id.example.com"}, "go together"),
        ({"oidc_audience": "api"}, "go together"),
        ({"oidc_issuer": "http://id.example.com", "oidc_audience": "api"}, "https://"),
        ({"deployment": "blue-green"}, "deployment"),
        ({"alarm_email": "not-an-address"}, "alarm-email"),
        ({"alarm_duration_percent": "120"}, "alarm-duration-percent"),
        ({"reserved_concurrency": "-1"}, "reserved-concurrency"),
    ],
)
def test_bad_values_are_refused_with_the_key_named(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config(**context)


def test_every_knob_is_documented() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "aws.md").read_text(encoding="utf-8")
    for knob in KNOBS:
        assert f"| `{knob.key}` |" in page, knob.key


def test_retention_days_are_cloudwatch_values() -> None:
    assert {1, 7, 30, 365, 3653} <= set(RETENTION_DAYS)


@pytest.mark.parametrize("cors", ["", "https://app.example.com"])
@pytest.mark.parametrize(
    ("reserved", "delay"), [(10, 3), (100, 3), (50, 12.5), (4, 25), (7, 0), (10000, 0.5)]
)
def test_the_anonymous_routes_together_leave_half_of_any_reservation(
    reserved: int, delay: float, cors: str
) -> None:
    from app.contract.gateway_routes import gateway_routes
    from app.store.budget import READINESS_BUDGET
    from infra.anonymous import GREETING_ROUTE, QUICK_HOLD_SECONDS, anonymous_throttles

    c = config(reserved_concurrency=reserved, greet_delay=delay, cors_origins=cors)
    throttles = anonymous_throttles(c)
    public = {r.route_key for r in gateway_routes(cors=bool(cors)) if r.public}
    assert set(throttles) == public  # every anonymous route, none left at the stage default
    # /health?ready=1 awaits the store's readiness check at most READINESS_BUDGET.
    assert QUICK_HOLD_SECONDS >= READINESS_BUDGET
    held = sum(
        t.burst + t.rate * (delay + 0.5 if key == GREETING_ROUTE else QUICK_HOLD_SECONDS)
        for key, t in throttles.items()
    )
    assert held <= reserved / 2, throttles
    greeting = throttles[GREETING_ROUTE]
    assert greeting.burst >= 1  # open: one greeting at a time at least
    assert 0 < greeting.rate <= 50  # never above the stage's default (dev: 50/s)
    assert throttles["ANY /health"].rate > 0 or reserved < 8
    for t in throttles.values():  # a route is open (both limits) or closed (neither)
        assert (t.burst >= 1 and t.rate > 0) or (t.burst, t.rate) == (0, 0)


def test_without_a_reservation_anonymous_routes_keep_the_stage_limits() -> None:
    from infra.anonymous import anonymous_throttles

    assert anonymous_throttles(config(reserved_concurrency=0)) == {}


def test_the_documented_anonymous_limits_are_the_stacks() -> None:
    """docs/aws.md's table of the public routes' limits, for each stage's defaults."""
    from infra.anonymous import anonymous_throttles, hold_seconds

    page = (Path(__file__).resolve().parents[2] / "docs" / "aws.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): [c.strip() for c in line.split("|")[2:4]]
            for line in page.splitlines() if line.startswith("| `ANY /")}  # fmt: skip
    for column, stage in enumerate(("dev", "prod")):
        c = config(stage=stage)
        throttles = anonymous_throttles(c)
        for key, t in throttles.items():
            assert rows[key][column] == f"burst {t.burst}, {t.rate:g}/s", (stage, key)
        held = sum(t.held(hold_seconds(k, c)) for k, t in throttles.items())
        assert f"{held:.2f} of {c.reserved_concurrency}" in page, (stage, held)
