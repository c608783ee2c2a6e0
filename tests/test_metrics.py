"""EMF metrics: real requests through the Lambda handler write lines CloudWatch can extract."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.aws_lambda.adapter import LambdaAdapter
from app.aws_lambda.factory import build_handler, lambda_settings
from app.config import Settings
from app.contract import metrics
from app.domain.idempotency import Completion
from app.domain.orders import Order
from app.http.middleware.request_ids import TRACE_ENV
from app.main import create_app
from app.store import open_store
from tests.fakes import ControlledStore
from tests.test_lambda_identity import claims
from tests.test_lambda_responses import TEA, at

TRACE = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1"
STAGE = "test"


@pytest.fixture
def handler(tmp_path: Path) -> Iterator[LambdaAdapter]:
    adapter = build_handler(
        lambda_settings(store_url=f"sqlite:///{tmp_path / 'orders.db'}", greet_delay=0, stage=STAGE)
    )
    yield adapter
    adapter.close()


def request(
    handler: LambdaAdapter,
    method: str,
    path: str,
    *,
    body: object = None,
    headers: dict[str, str] | None = None,
    request_id: str = "gw-1",
) -> dict[str, Any]:
    event = claims(at("http-api-v2", method, path, body=body), "jwt", "alice")
    event["headers"].update(headers or {})
    event["requestContext"]["requestId"] = request_id
    return handler(event, type("Context", (), {"aws_request_id": "lambda-1"})())


def emf_lines(out: str) -> list[dict[str, Any]]:
    documents = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [d for d in documents if "_aws" in d]


def assert_valid_emf(document: dict[str, Any]) -> None:
    """The structure the EMF specification requires (AWS CloudWatch documentation)."""
    metadata = document["_aws"]
    assert isinstance(metadata["Timestamp"], int)
    assert metadata["Timestamp"] > 1_600_000_000_000  # epoch milliseconds
    directives = metadata["CloudWatchMetrics"]
    assert isinstance(directives, list)
    assert directives
    for directive in directives:
        assert isinstance(directive["Namespace"], str)
        assert 1 <= len(directive["Namespace"]) <= 255
        assert isinstance(directive["Dimensions"], list)
        for dimension_set in directive["Dimensions"]:
            assert isinstance(dimension_set, list)
            assert 1 <= len(dimension_set) <= 30
            for name in dimension_set:
                assert isinstance(document[name], str), name  # every dimension has its value
                assert document[name]
        declared = directive["Metrics"]
        assert 1 <= len(declared) <= 100
        for metric in declared:
            assert set(metric) <= {"Name", "Unit", "StorageResolution"}
            assert metric.get("Unit", "None") in EMF_UNITS
            value = document[metric["Name"]]  # every declared metric is a member
            assert isinstance(value, int | float)
            assert not isinstance(value, bool)


EMF_UNITS = {"Count", "Milliseconds", "Seconds", "Microseconds", "Percent", "None"}


def test_every_request_writes_one_valid_emf_line_per_route_template(
    handler: LambdaAdapter, capsys: pytest.CaptureFixture[str]
) -> None:
    created = request(handler, "POST", "/orders", body=TEA)
    order = json.loads(created["body"])
    order_id = order["id"]
    stale = created["headers"]["etag"]
    request(handler, "GET", f"/orders/{order_id}")
    request(handler, "POST", f"/orders/{order_id}/pay")
    request(handler, "POST", f"/orders/{order_id}/pay")  # 409: already paid
    request(handler, "PUT", f"/orders/{order_id}", body=TEA, headers={"if-match": stale})  # 412
    request(handler, "POST", f"/orders/{order_id}/cancel")
    key = {"idempotency-key": "order-42"}
    request(handler, "POST", "/orders", body=TEA, headers=key)
    request(handler, "POST", "/orders", body=TEA, headers=key)  # replayed
    request(handler, "GET", f"/no/such/{order_id}")  # 404 without a route

    lines = emf_lines(capsys.readouterr().out)
    assert len(lines) == 9
    for line in lines:
        assert_valid_emf(line)
        (directive,) = line["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == metrics.NAMESPACE
        assert directive["Dimensions"] == [["stage"], ["stage", "route"]]
        assert line["stage"] == STAGE
        assert order_id not in json.dumps(line)  # never the raw path, never an id
        assert line["Requests"] == 1
        assert line["Latency"] >= 0
        assert line["apigw_request_id"] == "gw-1"
    routes = [line["route"] for line in lines]
    assert routes == [
        "POST /orders",
        "GET /orders/{order_id}",
        "POST /orders/{order_id}/pay",
        "POST /orders/{order_id}/pay",
        "PUT /orders/{order_id}",
        "POST /orders/{order_id}/cancel",
        "POST /orders",
        "POST /orders",
        metrics.UNMATCHED,
    ]
    business = [
        {k: v for k, v in line.items() if k in BUSINESS} for line in lines
    ]  # what each request counted
    assert business == [
        {"OrdersCreated": 1},
        {},
        {"OrdersPaid": 1},
        {"Conflicts": 1},
        {"PreconditionFailures": 1},
        {"OrdersCancelled": 1},
        {"OrdersCreated": 1},
        {"IdempotentReplays": 1},
        {},
    ]
    assert [line["status"] for line in lines] == [201, 200, 200, 409, 412, 200, 201, 201, 404]
    assert [(line["ClientErrors"], line["ServerErrors"]) for line in lines][3:5] == [(1, 0)] * 2


BUSINESS = set(metrics.BUSINESS_COUNTS)


def test_the_contract_names_endpoints_the_app_has(tmp_path: Path) -> None:
    """The counted endpoints are the contract's names: renaming a route must fail here."""
    app = create_app(Settings(store_url=f"sqlite:///{tmp_path / 'orders.db'}"))
    names = {getattr(route, "name", None) for route in app.routes}
    assert set(metrics.SUCCESS_COUNTS) <= names
    assert set(metrics.SUCCESS_COUNTS.values()) <= BUSINESS


class BrokenStore(ControlledStore):
    """The first add is unavailable (a mapped 503), the second a bug (an unhandled 500)."""

    async def add(self, order: Order, *, completes: Completion | None = None) -> None:
        if self.fail_next_adds:
            await super().add(order, completes=completes)
        raise RuntimeError("a bug")


def test_server_errors_are_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'orders.db'}",
        identity_mode="gateway",
        metrics="emf",
        greet_delay=0,
    )
    store = BrokenStore(open_store(settings.store_url))
    store.fail_next_adds = 1
    adapter = LambdaAdapter(create_app(settings, store=store))
    try:
        statuses = [request(adapter, "POST", "/orders", body=TEA)["statusCode"] for _ in "12"]
    finally:
        adapter.close()
    assert statuses == [503, 500]
    lines = emf_lines(capsys.readouterr().out)
    for line in lines:
        assert_valid_emf(line)
    assert [(x["route"], x["status"], x["ServerErrors"]) for x in lines] == [
        ("POST /orders", 503, 1),
        ("POST /orders", 500, 1),
    ]
    assert "OrdersCreated" not in lines[0]


def test_trace_and_gateway_ids_are_in_the_log_line_and_the_metrics(
    handler: LambdaAdapter,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TRACE_ENV, TRACE)  # what Lambda sets for each invocation
    with caplog.at_level(logging.INFO, logger="app.lambda"):
        request(handler, "GET", "/orders", request_id="gw-7")
    monkeypatch.delenv(TRACE_ENV)
    header_trace = "Root=1-5759e988-bd862e3fe1be46a994272793"
    with caplog.at_level(logging.INFO, logger="app.lambda"):
        request(handler, "GET", "/orders", headers={"x-amzn-trace-id": header_trace})
    logged = [r.__dict__ for r in caplog.records if r.name == "app.lambda"]
    assert [(r["trace_id"], r["apigw_request_id"]) for r in logged] == [
        (TRACE, "gw-7"),
        (header_trace, "gw-1"),
    ]
    lines = emf_lines(capsys.readouterr().out)
    assert [(line["trace_id"], line["apigw_request_id"]) for line in lines] == [
        (TRACE, "gw-7"),
        (header_trace, "gw-1"),
    ]


def test_metrics_are_on_in_lambda_and_off_locally_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("METRICS", raising=False)
    assert Settings().metrics == "off"
    assert lambda_settings().metrics == "emf"
    monkeypatch.setenv("METRICS", "off")
    assert lambda_settings().metrics == "off"
