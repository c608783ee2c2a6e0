"""Smoke test of the built asset: this machine's platform, CPython 3.13, nothing but the asset.

A fresh ``python3.13 -I -S`` imports ``app.aws_lambda.handler`` from the asset exactly as Lambda
would and serves real HTTP API 2.0 events; orders go to moto's DynamoDB server over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from app.config import env_name
from infra.asset import PROJECT_ROOT, build_bundle, host_target
from infra.interpreter import find_python
from tests.conftest import fresh_dynamodb_table
from tests.support import order_body

pytestmark = pytest.mark.skipif(
    not (PROJECT_ROOT / "app" / "lambda_handler.py").exists(),
    reason="app/aws_lambda/handler.py is absent",
)

REGION = "us-east-1"
HOST = "abc123.execute-api.us-east-1.amazonaws.com"
CHILD = Path(__file__).with_name("smoke_child.py")


@pytest.fixture(scope="module")
def host_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundle(tmp_path_factory.mktemp("bundle") / "asset", host_target())


@pytest.fixture(scope="module")
def dynamodb_store_url(moto_endpoint: str) -> str:
    """A fresh table on the session's moto server, made by the project's own admin helper."""
    return asyncio.run(fresh_dynamodb_table(moto_endpoint))


def http_api_event(
    method: str,
    path: str,
    route_key: str,
    *,
    sub: str | None = None,
    body: object = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as the JWT-authorized route sends it."""
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": HOST,
        "domainPrefix": "abc123",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.7",
            "userAgent": "curl/8.5.0",
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": route_key,
        "stage": "$default",
        "time": "24/Nov/2026:23:00:00 +0000",
        "timeEpoch": 1795820400000,
    }
    if sub is not None:
        request_context["authorizer"] = {
            "jwt": {"claims": {"sub": sub, "token_use": "access"}, "scopes": None}
        }
    headers = {
        "accept": "application/json",
        "host": HOST,
        "user-agent": "curl/8.5.0",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if body is not None:
        headers["content-type"] = "application/json"
        event["body"] = json.dumps(body)
    if path_parameters:
        event["pathParameters"] = path_parameters
    return event


def serve(bundle: Path, store_url: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Run the events through the handler in a fresh isolated python3.13."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        env_name("store_url"): store_url,
        env_name("identity_mode"): "gateway",
        env_name("greet_delay"): "0",
        env_name("log_level"): "WARNING",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_LAMBDA_FUNCTION_NAME": "orders-api-smoke",
    }
    done = subprocess.run(  # noqa: S603
        [find_python("3.13"), "-I", "-S", str(CHILD), str(bundle)],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_handler_serves_http_api_events_from_the_bundle_alone(
    host_bundle: Path, dynamodb_store_url: str
) -> None:
    create = http_api_event(
        "POST", "/orders", "ANY /orders", sub="alice", body=order_body("flat white")
    )
    first = serve(
        host_bundle,
        dynamodb_store_url,
        [http_api_event("GET", "/hi", "GET /hi"), create],
    )
    assert first["isolated"] == 1
    assert first["version"] == [3, 13]
    assert first["sys_path"][0] == str(host_bundle)
    for module_file in (first["handler_file"], first["fastapi_file"]):
        assert Path(module_file).is_relative_to(host_bundle), module_file
    # Nothing from a site-packages directory: only the asset and the standard library.
    assert not [p for p in first["sys_path"] if "site-packages" in p]

    hi, created = first["responses"]
    assert hi["statusCode"] == 200
    assert json.loads(hi["body"]) == "Hello, async FastAPI!"
    assert created["statusCode"] == 201, created
    order = json.loads(created["body"])
    assert order["status"] == "created"
    assert order["order"][0]["product"] == "flat white"
    headers = {k.lower(): v for k, v in created["headers"].items()}
    assert headers["location"].endswith(f"/orders/{order['id']}")

    # A new process (a new execution environment): the order lives in DynamoDB, not memory.
    item_path = f"/orders/{order['id']}"
    item_route = "ANY /orders/{proxy+}"
    params = {"proxy": order["id"]}
    second = serve(
        host_bundle,
        dynamodb_store_url,
        [
            http_api_event("GET", item_path, item_route, sub="alice", path_parameters=params),
            http_api_event("GET", item_path, item_route, sub="bob", path_parameters=params),
            http_api_event("DELETE", item_path, item_route, sub="alice", path_parameters=params),
            http_api_event("GET", item_path, item_route, sub="alice", path_parameters=params),
        ],
    )
    fetched, foreign, deleted, gone = second["responses"]
    assert fetched["statusCode"] == 200
    assert json.loads(fetched["body"]) == order
    assert foreign["statusCode"] == 404  # another caller's order answers like a missing one
    assert deleted["statusCode"] == 204
    assert deleted.get("body") in (None, "")
    assert gone["statusCode"] == 404
    assert json.loads(gone["body"])["detail"]
