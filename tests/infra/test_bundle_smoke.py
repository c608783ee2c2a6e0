"""Smoke test of the built asset: this machine's platform, CPython 3.13, nothing but the asset.

A fresh ``python3.13 -I -S`` imports ``app.aws_lambda.handler`` from the asset exactly as Lambda
would and serves real HTTP API 2.0 events; orders go to moto's DynamoDB server over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.config import env_name
from devtools.gateway.events import routed_event
from infra.asset import build_bundle, host_target
from infra.interpreter import find_python
from tests.conftest import fresh_dynamodb_table
from tests.support import order_body

REGION = "us-east-1"
HOST = "abc123.execute-api.us-east-1.amazonaws.com"
Event = dict[str, Any]
CHILD = Path(__file__).with_name("smoke_child.py")


@pytest.fixture(scope="module")
def host_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundle(tmp_path_factory.mktemp("bundle") / "asset", host_target())


@pytest.fixture(scope="module")
def dynamodb_store_url(moto_endpoint: str) -> str:
    """A fresh table on the session's moto server, made by the project's own admin helper."""
    return asyncio.run(fresh_dynamodb_table(moto_endpoint))


def http_api_event(method: str, path: str, *, sub: str | None = None, body: object = None) -> Event:
    """``method path`` as API Gateway sends it on this stack's routes (``sub``: the JWT's)."""
    headers = [("host", HOST), ("accept", "application/json"), ("user-agent", "curl/8.5.0")]
    if body is not None:
        headers.append(("content-type", "application/json"))
    return routed_event(
        method,
        path,
        headers=headers,
        body=b"" if body is None else json.dumps(body).encode(),
        claims=None if sub is None else {"sub": sub, "token_use": "access"},
    )


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
    *metric_lines, last = done.stdout.splitlines()  # one EMF line per request, then the report
    report: dict[str, Any] = json.loads(last)
    report["metric_routes"] = [json.loads(line)["route"] for line in metric_lines]
    return report


def test_handler_serves_http_api_events_from_the_bundle_alone(
    host_bundle: Path, dynamodb_store_url: str
) -> None:
    create = http_api_event("POST", "/orders", sub="alice", body=order_body("flat white"))
    first = serve(
        host_bundle,
        dynamodb_store_url,
        [http_api_event("GET", "/hi"), create],
    )
    assert first["isolated"] == 1
    assert first["metric_routes"] == ["GET /hi", "POST /orders"]
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
    second = serve(
        host_bundle,
        dynamodb_store_url,
        [
            http_api_event("GET", item_path, sub="alice"),
            http_api_event("GET", item_path, sub="bob"),
            http_api_event("DELETE", item_path, sub="alice"),
            http_api_event("GET", item_path, sub="alice"),
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
