"""The capacity model's queueing math against known values, its throttle predictions kept
apart (API Gateway's 429 vs Lambda's), and what moves when DynamoDB's latency does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools.capacity.__main__ import main, report
from devtools.capacity.model import Scenario, capacity
from devtools.capacity.monthly import sensitivity
from devtools.capacity.prices import Prices
from devtools.capacity.queueing import (
    _simulate,
    erlang_b,
    peak_in_flight,
    servers_for,
    token_bucket_refused,
)
from devtools.capacity.routes import DEFAULTS, parse_mix
from devtools.capacity.stack import Stack
from devtools.gateway.throttle import Limits, StageThrottle

PRICES = Prices.load()


GREETING = Limits(1.14, 1)  # dev: reserved 10, GREET_DELAY 3 s (infra/api.py)


def dev_stack(greeting: Limits | None = GREETING, greet_delay: float = 3.0) -> Stack:
    """The dev stage's knobs (infra/context.py, infra/api.py) without synthesizing."""
    routes = {"ANY /hi": greeting} if greeting else {}
    return Stack(
        memory_mb=512,
        arm64=True,
        reserved_concurrency=10,
        snap_start=True,
        tracing=True,
        greet_delay=greet_delay,
        throttle=StageThrottle(Limits(50, 100), routes),
        table_max_read_units=100,
        table_max_write_units=50,
    )


@pytest.mark.parametrize(
    ("servers", "load", "loss"),
    [(1, 1.0, 0.5), (2, 1.0, 0.2), (5, 3.0, 0.110054), (10, 5.0, 0.018385)],
)
def test_erlang_b_matches_known_values(servers: int, load: float, loss: float) -> None:
    # B(1,A) = A/(1+A); B(2,1) = (1/2)/(1 + 1 + 1/2); the rest from Erlang B tables.
    assert erlang_b(servers, load) == pytest.approx(loss, abs=2e-6)


def test_servers_for_matches_the_erlang_b_table_at_one_percent() -> None:
    # Erlang B table, 1 % grade of service: 5 servers carry 1.36 erlangs, 10 carry 4.46.
    assert (servers_for(1.36, 0.01), servers_for(4.46, 0.01)) == (5, 10)
    assert (servers_for(1.37, 0.01), servers_for(4.47, 0.01)) == (6, 11)


def test_a_one_token_bucket_is_an_erlang_loss_system_with_one_server() -> None:
    closed = token_bucket_refused(1.0, 1.14, 1)
    assert closed == pytest.approx(erlang_b(1, 1.0 / 1.14))
    simulated = _simulate(1.0, 1.14, 1, "poisson", None, 28)  # the schedule, one long run
    assert simulated == pytest.approx(closed, abs=0.005)
    # A 20-second run starts with a full bucket: its first request always passes.
    assert token_bucket_refused(1.0, 1.14, 1, seconds=20.0) < closed


def test_a_token_bucket_admits_its_rate_in_the_long_run() -> None:
    assert token_bucket_refused(100.0, 10.0, 20) == pytest.approx(0.9, abs=0.005)
    assert token_bucket_refused(5.0, 10.0, 20) < 0.001
    assert token_bucket_refused(20.0, 10.0, 5, arrival="constant") == 0.5
    assert token_bucket_refused(5.0, 0.0, 0) == 1.0  # a closed route


def test_peak_in_flight() -> None:
    assert peak_in_flight(8.0, 400, "constant") == 8
    assert peak_in_flight(7.2, 400, "constant") == 8
    # Poisson(3): P(N > 8) = 0.0038, P(N > 7) = 0.012: the level exceeded about once in 100.
    assert peak_in_flight(3.0, 100) == 8


def test_a_greeting_flood_is_refused_by_api_gateway_not_throttled_by_lambda() -> None:
    """/hi at 10 req/s holding 3 s each: naively 30 environments of 10 and two thirds of the
    requests throttled by Lambda; the route's bucket (1.14/s, burst 1) refuses 90 % first
    and what it admits fits in the reservation."""
    answer = capacity(Scenario(10.0, {"hi": 1.0}), dev_stack(), DEFAULTS, PRICES)
    shares = answer["throttled_share"]
    assert shares["api_gateway"] == pytest.approx(8.77 / 9.77, abs=0.002)
    assert shares["lambda"] < 0.002
    assert answer["concurrency"]["mean"] == pytest.approx(10 / 9.77 * 3.0, rel=0.01)


def test_without_the_route_throttle_lambda_throttles_as_erlang_b_says() -> None:
    answer = capacity(Scenario(5.0, {"hi": 1.0}), dev_stack(greeting=None), DEFAULTS, PRICES)
    erlangs = answer["concurrency"]["offered_erlangs"]
    assert erlangs == pytest.approx(15.0, rel=0.01)
    assert answer["throttled_share"]["api_gateway"] == 0.0
    assert answer["throttled_share"]["lambda"] == pytest.approx(erlang_b(10, erlangs))
    assert answer["throttled_share"]["lambda"] > 1 - 10 / erlangs  # more than the naive share


def test_dynamodb_units_and_the_hottest_owner() -> None:
    # 40 req/s: get 30/s under the stage's 50/s on its route, create 10/s of 5 WRU each.
    scenario = Scenario(40.0, parse_mix("get:3,create:1"), owner_share=0.5)
    answer = capacity(scenario, dev_stack(), DEFAULTS, PRICES)["dynamodb"]
    assert answer["read_units_per_s"] == pytest.approx(30.0, rel=0.01)
    assert answer["write_units_per_s"] == pytest.approx(50.0, rel=0.01)
    assert answer["hot_partition"]["write_share_of_partition"] == pytest.approx(0.025, rel=0.01)
    assert answer["table_max_share"] == pytest.approx(1.0, rel=0.01)  # dev's 50 WRU/s maximum


def test_store_latency_moves_the_orders_routes_and_not_the_greeting() -> None:
    stack = dev_stack()
    orders = sensitivity(Scenario(50.0, parse_mix("get:1,create:1")), stack, DEFAULTS, PRICES)
    environments = [row["concurrency"] for row in orders]
    dollars = [row["lambda_duration_usd"] for row in orders]
    assert environments == sorted(environments)
    assert environments[-1] > 2 * environments[0]
    assert dollars == sorted(dollars)
    assert dollars[-1] > dollars[0]
    # get at 50 ms a call instead of 2: 48 ms more per call, 1.5 calls a request on average.
    assert environments[-1] - environments[0] == pytest.approx(50.0 * 1.5 * 0.048, rel=0.02)
    greetings = sensitivity(Scenario(1.0, {"hi": 1.0}), stack, DEFAULTS, PRICES)
    assert len({round(row["concurrency"], 9) for row in greetings}) == 1


def test_the_report_names_every_line_item_and_route() -> None:
    answer = report(Scenario(10.0, parse_mix("hi:1,get:9")), dev_stack(), None, PRICES)
    assert set(answer["throttled_share"]) == {"api_gateway", "lambda", "total"}
    assert set(answer["cost_per_million_usd"]) == {"hi", "get"}
    assert answer["cost_per_million_usd"]["hi"] > 5 * answer["cost_per_million_usd"]["get"]
    assert {"lambda_duration", "http_api_requests", "dynamodb_reads", "snapstart_cache"} <= set(
        answer["monthly_cost_usd"]
    )
    assert answer["largest_lever"].startswith("hi holds")
    json.dumps(answer)


def test_bad_input_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["--mix", "hi:1,nope:2", "--out", str(tmp_path / "r.json")]) == 2
    assert "unknown route 'nope'" in capsys.readouterr().err
    assert main(["--rate", "-1", "--out", str(tmp_path / "r.json")]) == 2
    assert not (tmp_path / "r.json").exists()
