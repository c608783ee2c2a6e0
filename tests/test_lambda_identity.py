"""Identity on Lambda: API Gateway's authorizer claims, never anything a client sends."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.aws_lambda.adapter import LambdaAdapter
from app.aws_lambda.factory import build_handler, lambda_settings
from app.config import Settings
from app.contract.gateway_routes import PUBLIC_PATHS
from app.main import create_app
from tests.test_lambda_responses import TEA, at

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def handler(tmp_path: Path) -> Iterator[LambdaAdapter]:
    adapter = build_handler(
        Settings(
            store_url=f"sqlite:///{tmp_path / 'orders.db'}", greet_delay=0, identity_mode="gateway"
        )
    )
    yield adapter
    adapter.close()


def claims(event: dict[str, Any], where: str, sub: object) -> dict[str, Any]:
    """Put ``sub`` where an authorizer would: ``jwt`` (HTTP API) or ``cognito`` (REST API)."""
    value = {"sub": sub, "iss": "https://issuer.example"}
    if where == "jwt":
        event["requestContext"]["authorizer"] = {"jwt": {"claims": value, "scopes": None}}
    else:
        event["requestContext"]["authorizer"] = {"claims": value}
    return event


def call(handler: LambdaAdapter, event: dict[str, Any]) -> tuple[int, Any]:
    response = handler(event, None)
    return response["statusCode"], json.loads(response["body"]) if response["body"] else None


CARRIERS = [("http-api-v2", "jwt"), ("http-api-v1", "jwt"), ("http-api-v1", "cognito")]
CARRIERS += [("rest-api-v1", "cognito"), ("rest-api-v1", "jwt")]


@pytest.mark.parametrize(("name", "where"), CARRIERS)
def test_the_owner_is_the_verified_subject(handler: LambdaAdapter, name: str, where: str) -> None:
    status, order = call(handler, claims(at(name, "POST", "/orders", body=TEA), where, "alice"))
    assert status == 201
    status, alices = call(handler, claims(at(name, "GET", "/orders"), where, "alice"))
    assert (status, alices) == (200, {"orders": [order]})
    status, bobs = call(handler, claims(at(name, "GET", "/orders"), where, "bob"))
    assert (status, bobs) == (200, {"orders": []})
    status, _ = call(handler, claims(at(name, "GET", f"/orders/{order['id']}"), where, "bob"))
    assert status == 404


PROTECTED = [
    ("POST", "/orders"),
    ("GET", "/orders"),
    ("GET", f"/orders/{'0' * 8}-0000-7000-8000-{'0' * 12}"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("name", ["http-api-v2", "rest-api-v1", "function-url", "alb"])
@pytest.mark.parametrize("sub", [None, "", "   ", 42, ["alice"], "x" * 257, "\ud800"], ids=repr)
def test_missing_or_unusable_claims_are_401_and_change_nothing(
    handler: LambdaAdapter, name: str, method: str, path: str, sub: object
) -> None:
    event = at(name, method, path, body=TEA if method == "POST" else None)
    event["requestContext"].pop("authorizer", None)
    if sub is not None:
        claims(event, "jwt", sub)
    response = handler(event, None)
    assert response["statusCode"] == 401
    assert json.loads(response["body"]) == {"detail": "Not authenticated"}
    assert response["headers"]["www-authenticate"] == "Bearer"
    status, listed = call(handler, claims(at(name, "GET", "/orders"), "jwt", "anyone"))
    assert (status, listed) == (200, {"orders": []})


SPOOFS = {
    "x-test-user": "mallory",
    "authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.",
    "x-amzn-oidc-identity": "mallory",
    "x-amzn-request-context": json.dumps({"authorizer": {"jwt": {"claims": {"sub": "mallory"}}}}),
    "x-apigateway-event": json.dumps({"requestContext": {"authorizer": {"claims": {"sub": "m"}}}}),
    "x-apigateway-context": json.dumps({"authorizer": {"claims": {"sub": "mallory"}}}),
    "sub": "mallory",
    "requestContext": "mallory",
}


def spoofed(event: dict[str, Any]) -> dict[str, Any]:
    event["headers"].update(SPOOFS)
    if "multiValueHeaders" in event:
        event["multiValueHeaders"].update({k: [v] for k, v in SPOOFS.items()})
    if event.get("version") == "2.0":
        event["rawQueryString"] = "sub=mallory&owner=mallory"
        event["cookies"] = ["sub=mallory"]
    else:
        event["queryStringParameters"] = {"sub": "mallory"}
        event["multiValueQueryStringParameters"] = {"sub": ["mallory"]}
    return event


@pytest.mark.parametrize("name", ["http-api-v2", "rest-api-v1", "function-url", "alb"])
def test_no_header_query_or_cookie_is_an_identity(handler: LambdaAdapter, name: str) -> None:
    no_claims = spoofed(at(name, "GET", "/orders"))
    no_claims["requestContext"].pop("authorizer", None)
    assert handler(no_claims, None)["statusCode"] == 401
    status, order = call(
        handler, spoofed(claims(at(name, "POST", "/orders", body=TEA), "jwt", "alice"))
    )
    assert status == 201
    status, mallorys = call(handler, claims(at(name, "GET", "/orders"), "jwt", "mallory"))
    assert (status, mallorys) == (200, {"orders": []})
    status, alices = call(handler, claims(at(name, "GET", "/orders"), "jwt", "alice"))
    assert (status, alices) == (200, {"orders": [order]})


@pytest.mark.parametrize("path", sorted(PUBLIC_PATHS))
@pytest.mark.parametrize("name", ["http-api-v2", "rest-api-v1", "function-url", "alb"])
def test_public_routes_need_no_claims(handler: LambdaAdapter, name: str, path: str) -> None:
    event = at(name, "GET", path)
    event["requestContext"].pop("authorizer", None)
    assert handler(event, None)["statusCode"] == 200


@pytest.mark.anyio
async def test_gateway_identity_outside_lambda_fails_closed(tmp_path: Path) -> None:
    """Served without a Lambda event (say, by uvicorn), the gateway mode lets nobody in."""
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'o.db'}", identity_mode="gateway")
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        response = await client.get("/orders", headers={"x-test-user": "alice"})
    assert response.status_code == 401


# --- logs -------------------------------------------------------------------------------------


def test_one_structured_log_line_per_request_without_bodies_or_tokens(
    handler: LambdaAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    secret_product = "secret-recipe-7f3a"
    token = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.c2lnbmF0dXJl"
    event = claims(
        at(
            "http-api-v2",
            "POST",
            "/orders",
            body={"order": [{"product": secret_product, "size": "big"}]},
        ),
        "jwt",
        "alice",
    )
    event["headers"]["authorization"] = f"Bearer {token}"
    event["requestContext"]["requestId"] = "gw-123"
    context = type("Context", (), {"aws_request_id": "lambda-456"})()
    with caplog.at_level(logging.INFO):  # every logger, at Lambda's default level
        order_id = json.loads(handler(event, context)["body"])["id"]
        get = claims(at("http-api-v2", "GET", f"/orders/{order_id}"), "jwt", "alice")
        handler(get, context)
    lines = [r for r in caplog.records if r.name == "app.lambda"]
    assert len(lines) == 2
    fields = [
        {
            k: r.__dict__[k]
            for k in ("lambda_request_id", "apigw_request_id", "method", "route", "status", "owner")
        }
        for r in lines
    ]
    assert fields[0] == {
        "lambda_request_id": "lambda-456",
        "apigw_request_id": "gw-123",
        "method": "POST",
        "route": "/orders",
        "status": 201,
        "owner": "alice",
    }
    assert fields[1]["route"] == "/orders/{order_id}"
    assert all(isinstance(r.__dict__["latency_ms"], float) for r in lines)
    everything = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert secret_product not in everything
    assert token not in everything


def test_public_requests_log_no_owner(
    handler: LambdaAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.lambda"):
        handler(at("http-api-v2", "GET", "/hi"), None)
    (line,) = [r for r in caplog.records if r.name == "app.lambda"]
    assert (line.__dict__["route"], line.__dict__["owner"], line.__dict__["status"]) == (
        "/hi",
        None,
        200,
    )


class RuntimeLogSink:
    """Where awslambdaric's log handler writes (its stdout / telemetry-pipe sinks, in memory)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        self.lines.append(msg)


@pytest.fixture
def runtime_json_logs() -> Iterator[RuntimeLogSink]:
    """The root logger set up as awslambdaric sets it up with AWS_LAMBDA_LOG_FORMAT=JSON: its
    own handler, filter and ``JsonFormatter`` (the runtime's classes, not a stand-in)."""
    bootstrap = pytest.importorskip("awslambdaric.bootstrap", reason="Linux wheels only")
    from awslambdaric.lambda_runtime_log_utils import JsonFormatter

    sink = RuntimeLogSink()
    handler = bootstrap.LambdaLoggerHandlerWithFrameType(sink)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(bootstrap.LambdaLoggerFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # AWS_LAMBDA_LOG_LEVEL=INFO
    try:
        yield sink
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_lambdas_json_log_lines_carry_the_request_fields_as_keys(
    handler: LambdaAdapter, runtime_json_logs: RuntimeLogSink
) -> None:
    event = claims(at("http-api-v2", "POST", "/orders", body=TEA), "jwt", "alice")
    event["requestContext"]["requestId"] = "gw-123"
    context = type("Context", (), {"aws_request_id": "lambda-456"})()
    handler(event, context)
    bad = at("http-api-v2", "GET", "/hi")
    del bad["requestContext"]
    handler(bad, context)
    served, rejected = [
        line for line in map(json.loads, runtime_json_logs.lines) if line["logger"] == "app.lambda"
    ]
    assert served["level"] == "INFO"
    assert served["message"].startswith("POST /orders 201 ")
    assert {k: served[k] for k in ("lambda_request_id", "apigw_request_id", "owner")} == {
        "lambda_request_id": "lambda-456",
        "apigw_request_id": "gw-123",
        "owner": "alice",
    }
    assert (served["method"], served["route"], served["status"]) == ("POST", "/orders", 201)
    assert isinstance(served["latency_ms"], float)
    assert (rejected["level"], rejected["status"]) == ("WARNING", 400)
    assert rejected["reason"] == "missing requestContext"


def test_head_requests_log_their_method_and_the_route_served(
    handler: LambdaAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.lambda"):
        response = handler(at("http-api-v2", "HEAD", "/health"), None)
    assert (response["statusCode"], response["body"]) == (200, "")
    (line,) = [r for r in caplog.records if r.name == "app.lambda"]
    assert (line.__dict__["method"], line.__dict__["route"]) == ("HEAD", "/health")


# --- the entry module -------------------------------------------------------------------------


def test_lambda_settings_default_to_the_gateway_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IDENTITY_MODE", raising=False)
    assert lambda_settings().identity_mode == "gateway"
    monkeypatch.setenv("IDENTITY_MODE", "dev")
    assert lambda_settings().identity_mode == "dev"


def test_the_dev_identity_is_refused_on_lambda() -> None:
    with pytest.raises(ValueError, match="IDENTITY_MODE=dev"):
        build_handler(Settings(identity_mode="dev"))


def _import_handler(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = (
        "import json, sys\n"
        "from app.aws_lambda.handler import handler\n"
        "event = json.load(open(sys.argv[1]))\n"
        "print(json.dumps(handler(event, None)))\n"
        "handler.close()  # the store's worker thread would keep a plain process alive\n"
    )
    event = at("http-api-v2", "GET", "/hi")
    (tmp_path / "event.json").write_text(json.dumps(event))
    environment = {k: v for k, v in os.environ.items() if k != "IDENTITY_MODE"}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", script, str(tmp_path / "event.json")],
        cwd=ROOT,
        env={
            **environment,
            "STORE_URL": f"sqlite:///{tmp_path / 'l.db'}",
            "GREET_DELAY": "0",
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_handler_module_serves_from_the_environment(tmp_path: Path) -> None:
    result = _import_handler(tmp_path)
    assert result.returncode == 0, result.stderr
    *metric_lines, answer = result.stdout.splitlines()  # Lambda's default: EMF lines first
    response = json.loads(answer)
    assert [json.loads(line)["route"] for line in metric_lines] == ["GET /hi"]
    assert (response["statusCode"], response["body"]) == (200, '"Hello, async FastAPI!"')


def test_the_handler_module_refuses_the_dev_identity(tmp_path: Path) -> None:
    result = _import_handler(tmp_path, IDENTITY_MODE="dev")
    assert result.returncode != 0
    assert "IDENTITY_MODE=dev" in result.stderr
