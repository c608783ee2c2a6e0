"""Priming before a SnapStart snapshot: the first request's paths run, and nothing else happens.

No request leaves the process (the store answers from memory), nothing is written, logged or
measured, and afterwards the real store, logs and metrics are the ones requests get.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiodynamo.credentials import Key, StaticCredentials
from aiodynamo.http.httpx import HTTPX

from app.aws_lambda.adapter import LambdaAdapter
from app.aws_lambda.factory import build_handler, lambda_settings
from app.aws_lambda.priming import OWNER, prime
from app.store.dynamodb.client import DynamoDBClient
from devtools.ports import free_port
from tests.aws_lambda.test_lambda_identity import claims
from tests.aws_lambda.test_lambda_responses import at
from tests.conftest import fresh_dynamodb_table
from tests.support import order_body


def handler_on(store_url: str) -> LambdaAdapter:
    """The Lambda handler as ``app.aws_lambda.handler`` builds it (EMF metrics, gateway
    identity), on ``store_url``, without the greeting delay."""
    return build_handler(lambda_settings(store_url=store_url, greet_delay=0, log_level="INFO"))


def call(handler: LambdaAdapter, method: str, path: str, body: object = None) -> Any:
    event = claims(at("http-api-v2", method, path, body=body), "jwt", OWNER)
    return handler(event, None)


@pytest.fixture
def unreachable(aws_env: dict[str, str]) -> Iterator[LambdaAdapter]:
    """A handler whose table is at a port nothing listens on: any real call is a 503."""
    url = f"dynamodb://orders?region=us-east-1&endpoint=http://127.0.0.1:{free_port()}"
    adapter = handler_on(url + "&retry_budget=0.5&connect_timeout=0.2")
    yield adapter
    adapter.close()


def test_priming_answers_every_request_without_the_network_and_says_nothing(
    unreachable: LambdaAdapter, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert prime(unreachable) == []  # every priming request got the answer it expects
    assert capsys.readouterr().out == ""  # no EMF line: priming is not traffic
    assert caplog.records == []
    # The same request outside priming does reach for the table, which is not there...
    response = call(unreachable, "GET", "/orders")
    assert response["statusCode"] == 503
    # ...and is measured and logged as usual: priming gave stdout and logging back.
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["ServerErrors"] for line in emf] == [1]
    assert any(r.name == "app.lambda" for r in caplog.records)


def count_items(endpoint: str, table: str, aws_env: dict[str, str]) -> int:
    """The table's items, counted by a client of the test's own (not the handler's)."""

    async def scan() -> int:
        key = Key(aws_env["AWS_ACCESS_KEY_ID"], aws_env["AWS_SECRET_ACCESS_KEY"])
        async with httpx.AsyncClient() as http:
            client = DynamoDBClient(
                HTTPX(http), StaticCredentials(key), "us-east-1", endpoint=endpoint
            )
            request = {"TableName": table, "Select": "COUNT", "ConsistentRead": True}
            counted: int = (await client.send("Scan", request))["Count"]
            return counted

    return asyncio.run(scan())


def test_after_priming_the_table_holds_nothing_and_the_real_store_serves(
    moto_endpoint: str, aws_env: dict[str, str]
) -> None:
    url = asyncio.run(fresh_dynamodb_table(moto_endpoint))
    table = url.removeprefix("dynamodb://").split("?")[0]
    handler = handler_on(url)
    try:
        assert prime(handler) == []
        assert count_items(moto_endpoint, table, aws_env) == 0  # priming's order: in memory
        listed = call(handler, "GET", "/orders")
        assert listed["statusCode"] == 200
        assert json.loads(listed["body"])["orders"] == []
        created = call(handler, "POST", "/orders", order_body("latte"))
        assert created["statusCode"] == 201  # through the real client, to the table
        assert count_items(moto_endpoint, table, aws_env) == 1
    finally:
        handler.close()
