"""Malformed and foreign events are JSON 400s, app failures JSON 500s: nothing escapes."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from app.aws_lambda.adapter import LambdaAdapter
from app.config import Settings
from app.identity.providers import GatewayIdentity
from app.main import create_app
from app.store import open_store
from tests.aws_lambda.test_lambda_responses import SAMPLES, at, sample
from tests.lambda_transport import check_proxy_response

FUZZ_EXAMPLES = 2_000


def _without_request_context(e: dict[str, Any]) -> None:
    del e["requestContext"]


def _null_headers(e: dict[str, Any]) -> None:
    e["headers"] = None


def _bad_base64(e: dict[str, Any]) -> None:
    e["body"], e["isBase64Encoded"] = "not base64!", True


def _host(value: str) -> Any:
    def mutate(e: dict[str, Any]) -> None:
        e["headers"]["host"] = value
        if "multiValueHeaders" in e:
            e["multiValueHeaders"]["host"] = [value]

    return mutate


def _forwarded_port(e: dict[str, Any]) -> None:
    e["headers"]["x-forwarded-port"] = "443,80"
    if "multiValueHeaders" in e:
        e["multiValueHeaders"]["x-forwarded-port"] = ["443,80"]


def _version(e: dict[str, Any]) -> None:
    e["version"] = "3.0"


MALFORMED = {
    "missing-requestContext": _without_request_context,
    "headers-null": _null_headers,
    "body-not-base64": _bad_base64,
    "host-empty-port": _host("example.com:"),
    "host-two-colons": _host("a:b:c"),
    "x-forwarded-port-list": _forwarded_port,
    "unknown-payload-version": _version,
}


@pytest.mark.parametrize("name", SAMPLES)
@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_events_are_json_400_and_logged(
    handler: LambdaAdapter, name: str, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    event = at(name, "GET", "/hi")
    MALFORMED[case](event)
    with caplog.at_level(logging.WARNING, logger="app.lambda"):
        response = check_proxy_response(handler(event, None))
    assert response["statusCode"] == 400
    assert response["headers"]["content-type"] == "application/json"
    assert json.loads(response["body"])["detail"].startswith("Bad request event: ")
    rejected = [r for r in caplog.records if r.getMessage().startswith("Rejected Lambda event")]
    assert len(rejected) == 1
    assert rejected[0].__dict__["status"] == 400


def test_each_malformed_case_is_rejected_for_its_own_reason(handler: LambdaAdapter) -> None:
    details = set()
    for mutate in MALFORMED.values():
        event = at("http-api-v2", "GET", "/hi")
        mutate(event)
        details.add(json.loads(handler(event, None)["body"])["detail"])
    assert len(details) == len(MALFORMED) - 1  # both bad hosts share "invalid Host header"


@pytest.mark.parametrize(
    "event",
    [
        {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}}}]},
        {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}},
        {},
        [],
        "GET /hi",
        None,
        42,
    ],
    ids=["s3", "eventbridge", "empty", "list", "string", "null", "number"],
)
def test_events_that_are_not_http_get_a_clear_error(
    handler: LambdaAdapter, event: object, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.lambda"):
        response = check_proxy_response(handler(event, None))
    assert response["statusCode"] == 400
    assert "not an HTTP event" in json.loads(response["body"])["detail"]
    assert any("not an HTTP event" in r.getMessage() for r in caplog.records)


# A lone surrogate is a valid JSON string escape ("\\ud800"), so Lambda hands it to the function,
# but it has no UTF-8 spelling: a message or log line that quotes it must still be written.
LONE = "\ud800"


def _multi_value_header_name(e: dict[str, Any]) -> None:
    e["multiValueHeaders"] = {**e.get("multiValueHeaders", {}), LONE: "not a list"}


def _multi_value_query_name(e: dict[str, Any]) -> None:
    e["multiValueQueryStringParameters"] = {LONE + "x": [1]}


def _request_id(e: dict[str, Any]) -> None:
    e["requestContext"]["requestId"] = LONE
    e["headers"]["host"] = "example.com:"


@pytest.mark.parametrize("name", ["rest-api-v1", "http-api-v1", "alb"])
@pytest.mark.parametrize("mutate", [_multi_value_header_name, _multi_value_query_name, _request_id])
def test_a_message_quoting_an_unencodable_name_is_still_a_json_400(
    handler: LambdaAdapter, name: str, mutate: Any, caplog: pytest.LogCaptureFixture
) -> None:
    event = at(name, "GET", "/hi")
    mutate(event)
    with caplog.at_level(logging.WARNING, logger="app.lambda"):
        response = check_proxy_response(handler(event, None))
    assert response["statusCode"] == 400, response
    detail = json.loads(response["body"])["detail"]
    assert detail.startswith("Bad request event: ")
    for record in caplog.records:  # every line can be written out as UTF-8, none a traceback
        record.getMessage().encode()
        assert record.exc_info is None
    assert any(r.getMessage().startswith("Rejected Lambda event") for r in caplog.records)


# --- failures inside the app ----------------------------------------------------------------


class BrokenStore:
    """A real store whose listing breaks with an error the app does not expect."""

    def __init__(self, url: str) -> None:
        self.inner = open_store(url)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def list(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")


def test_an_unexpected_error_in_the_app_is_a_json_500(tmp_path: Any) -> None:
    settings = Settings(store_url="sqlite:///unused.db", identity_mode="gateway")
    store = BrokenStore(f"sqlite:///{tmp_path / 'broken.db'}")
    adapter = LambdaAdapter(create_app(settings, store=store, identity=GatewayIdentity()))
    try:
        response = check_proxy_response(adapter(at("http-api-v2", "GET", "/orders", sub="a"), None))
    finally:
        adapter.close()
    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"detail": "Internal Server Error"}
    assert "disk on fire" not in response["body"]


async def _raises_before_responding(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        return
    raise RuntimeError("boom")


async def _raises_mid_response(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    raise RuntimeError("boom")


async def _never_responds(scope: Scope, receive: Receive, send: Send) -> None:
    return


@pytest.mark.parametrize("app", [_raises_before_responding, _raises_mid_response, _never_responds])
@pytest.mark.parametrize("name", SAMPLES)
def test_a_broken_asgi_app_is_a_json_500(app: Any, name: str) -> None:
    adapter = LambdaAdapter(app)
    try:
        response = check_proxy_response(adapter(at(name, "GET", "/x"), None))
    finally:
        adapter.close()
    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"detail": "Internal Server Error"}


# --- fuzz -------------------------------------------------------------------------------------

ODD_VALUES = st.sampled_from(
    [
        None,
        "",
        0,
        -1,
        True,
        1.5,
        [],
        {},
        ["x"],
        {"a": 1},
        "example.com:",
        "a:b:c",
        "443,80",
        "99999",
        "%zz",
        "/../../etc",
        "\x00",
        "not base64!",
        "3.0",
        "GET",
        "ftp",
        "é",
        "x" * 300,
        "\ud800",  # valid in JSON, but no UTF-8 spelling
        "a\udfffb",
    ]
)
# Names a mutation may give a field: Lambda's JSON can carry lone surrogates in keys too.
ODD_NAMES = st.sampled_from(["\ud800", "x-\udc80", "", "X-Odd Name", "é"]) | st.text(max_size=8)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    """A real sample event (possibly re-aimed at a route), with 1-4 fields replaced or removed."""
    name = draw(st.sampled_from(SAMPLES))
    route = draw(st.sampled_from([None, ("GET", "/hi"), ("POST", "/orders"), ("GET", "/docs")]))
    event = copy.deepcopy(sample(name)) if route is None else at(name, *route, sub="fuzz")
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(event)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = event
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.integers(0, 2))
        if action == 0 and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == 1 and isinstance(parent, dict):  # renamed to an odd key, maybe odd too
            value = parent.pop(path[-1])
            parent[draw(ODD_NAMES)] = copy.deepcopy(draw(st.just(value) | ODD_VALUES))
        else:
            odd = draw(ODD_VALUES | st.text(max_size=20) | st.integers())
            parent[path[-1]] = copy.deepcopy(odd)  # never mutate the shared sample values
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([None, [], "event", 1, {"version": "2.0"}]))
    return event


def test_fuzzed_events_never_escape_and_always_get_a_proxy_response(
    handler: LambdaAdapter,
) -> None:
    seen: list[int] = []

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutated_events())
    def one(event: Any) -> None:
        response = check_proxy_response(handler(event, None))
        assert response["statusCode"] < 500, (event, response)
        seen.append(response["statusCode"])

    one()
    assert len(seen) >= FUZZ_EXAMPLES
    assert {400, 200} <= set(seen)  # both rejections and served requests were generated
