"""What the Lambda handler answers: sample events, bare 204s, cookies, binary bodies, base paths."""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from fastapi import FastAPI, Response

from app.aws_lambda.adapter import LambdaAdapter
from tests.lambda_loop_check import event
from tests.lambda_transport import check_proxy_response

EVENTS = Path(__file__).parents[1] / "events"
SAMPLES = sorted(p.stem for p in EVENTS.glob("*.json"))
TEA = {"order": [{"product": "tea", "size": "small"}]}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


def at(
    name: str, method: str, path: str, *, sub: str | None = None, body: object = None
) -> dict[str, Any]:
    """The sample event ``name`` re-aimed at ``method path`` (as API Gateway would send it)."""
    e = copy.deepcopy(sample(name))
    context = e["requestContext"]
    if e.get("version") == "2.0":
        e["rawPath"] = context["http"]["path"] = path
        context["http"]["method"] = method
        e["rawQueryString"] = ""
        e.pop("cookies", None)
    else:
        e["path"] = path
        e["httpMethod"] = method
        e["multiValueQueryStringParameters"] = e["queryStringParameters"] = None
        if "path" in context:
            context["path"] = path
        if "resource" in e:
            e["resource"], e["pathParameters"] = "/{proxy+}", {"proxy": path[1:]}
    e["body"], e["isBase64Encoded"] = None, False
    if body is not None:
        e["body"] = json.dumps(body)
        e["headers"]["content-type"] = "application/json"
        e.get("multiValueHeaders", {})["content-type"] = ["application/json"]
    if sub is not None:
        context["authorizer"] = {"jwt": {"claims": {"sub": sub}}, "claims": {"sub": sub}}
    return e


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_event_is_served(handler: LambdaAdapter, name: str) -> None:
    """The AWS samples as published (their paths are not routes of this API: 404, not 5xx)."""
    response = check_proxy_response(handler(sample(name), None))
    assert response["statusCode"] == 404
    assert json.loads(response["body"]) == {"detail": "Not Found"}


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_event_reaches_the_routes(handler: LambdaAdapter, name: str) -> None:
    response = check_proxy_response(handler(at(name, "GET", "/hi"), None))
    assert response["statusCode"] == 200
    assert response["body"] == '"Hello, async FastAPI!"'


@pytest.mark.parametrize("name", ["http-api-v2", "http-api-v1", "rest-api-v1", "function-url"])
def test_204_has_no_body_and_no_content_type(handler: LambdaAdapter, name: str) -> None:
    create = at(name, "POST", "/orders", sub="dora", body=TEA)
    created = handler(create, None)
    assert created["statusCode"] == 201, created
    order_id = json.loads(created["body"])["id"]
    deleted = check_proxy_response(
        handler(at(name, "DELETE", f"/orders/{order_id}", sub="dora"), None)
    )
    assert deleted["statusCode"] == 204
    assert deleted["body"] == ""
    assert deleted["isBase64Encoded"] is False
    names = {k.lower() for k in [*deleted["headers"], *deleted.get("multiValueHeaders", {})]}
    assert "content-type" not in names


def _extras_app() -> FastAPI:
    app = FastAPI()

    @app.get("/cookies")
    async def cookies(response: Response) -> dict[str, bool]:
        response.set_cookie("a", "1")
        response.set_cookie("b", "2", httponly=True)
        return {"ok": True}

    @app.get("/logo.png")
    async def logo() -> Response:
        return Response(PNG, media_type="image/png")

    @app.get("/bare")
    async def bare() -> Response:
        return Response(b"no type")

    return app


@pytest.fixture(scope="module")
def extras() -> Iterator[LambdaAdapter]:
    adapter = LambdaAdapter(_extras_app())
    yield adapter
    adapter.close()


def test_cookies_survive_on_http_api_v2(extras: LambdaAdapter) -> None:
    response = check_proxy_response(extras(at("http-api-v2", "GET", "/cookies"), None))
    assert sorted(c.split(";")[0] for c in response["cookies"]) == ["a=1", "b=2"]
    assert "set-cookie" not in response["headers"]


@pytest.mark.parametrize("name", ["rest-api-v1", "http-api-v1"])
def test_cookies_survive_on_v1(extras: LambdaAdapter, name: str) -> None:
    response = check_proxy_response(extras(at(name, "GET", "/cookies"), None))
    cookies = response["multiValueHeaders"]["set-cookie"]
    assert sorted(c.split(";")[0] for c in cookies) == ["a=1", "b=2"]
    assert "set-cookie" not in response["headers"]


@pytest.mark.parametrize("name", SAMPLES)
def test_binary_bodies_are_base64(extras: LambdaAdapter, name: str) -> None:
    response = check_proxy_response(extras(at(name, "GET", "/logo.png"), None))
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == PNG


def test_a_response_without_content_type_gets_none_invented(extras: LambdaAdapter) -> None:
    response = check_proxy_response(extras(at("http-api-v2", "GET", "/bare"), None))
    assert "content-type" not in response["headers"]
    body = response["body"]
    assert (base64.b64decode(body) if response["isBase64Encoded"] else body.encode()) == b"no type"


# --- base path ----------------------------------------------------------------------------


def _named_stage_v2(path: str) -> dict[str, Any]:
    e = at("http-api-v2", "GET", f"/prod{path}")
    e["requestContext"]["stage"] = "prod"
    e["routeKey"] = e["requestContext"]["routeKey"] = f"GET {path}"
    return e


def _named_stage_rest(path: str) -> dict[str, Any]:
    e = at("rest-api-v1", "GET", path)
    e["requestContext"]["stage"] = "prod"
    e["requestContext"]["path"] = f"/prod{path}"
    e["resource"], e["pathParameters"] = path, None
    return e


def _custom_domain_rest(path: str) -> dict[str, Any]:
    """REST API behind api.example.com with base path mapping ``v1`` → stage ``prod``."""
    e = at("rest-api-v1", "GET", f"/v1{path}")
    e["headers"]["Host"] = e["multiValueHeaders"]["Host"][0] = "api.example.com"
    e["requestContext"].update(stage="prod", domainName="api.example.com", path=f"/v1{path}")
    e["resource"], e["pathParameters"] = path, None
    return e


def _custom_domain_v2(path: str) -> dict[str, Any]:
    """HTTP API behind api.example.com with API mapping ``v1``: the event does not show it."""
    e = at("http-api-v2", "GET", path)
    e["headers"]["host"] = e["requestContext"]["domainName"] = "api.example.com"
    e["routeKey"] = e["requestContext"]["routeKey"] = f"GET {path}"
    return e


BASES = [(_named_stage_v2, "/prod"), (_named_stage_rest, "/prod"), (_custom_domain_rest, "/v1")]
BASE_IDS = ["http-api-named-stage", "rest-named-stage", "rest-custom-domain-mapping"]


def test_docs_under_an_http_api_mapping_use_a_relative_openapi_url(
    handler: LambdaAdapter,
) -> None:
    """Browsing https://api.example.com/v1/docs then loads /v1/openapi.json, which is routed."""
    docs = handler(_custom_domain_v2("/docs"), None)
    assert docs["statusCode"] == 200
    assert "url: 'openapi.json'" in docs["body"]
    spec = handler(_custom_domain_v2("/openapi.json"), None)
    assert spec["statusCode"] == 200
    assert json.loads(spec["body"])["info"]["title"] == "CoffeeMesh Orders API"


@pytest.mark.parametrize(("make", "root"), BASES, ids=BASE_IDS)
def test_routes_work_under_a_base_path(handler: LambdaAdapter, make: Any, root: str) -> None:
    response = handler(make("/hi"), None)
    assert response["statusCode"] == 200
    assert response["body"] == '"Hello, async FastAPI!"'


@pytest.mark.parametrize(("make", "root"), BASES, ids=BASE_IDS)
def test_docs_and_openapi_work_under_a_base_path(
    handler: LambdaAdapter, make: Any, root: str
) -> None:
    docs = handler(make("/docs"), None)
    assert docs["statusCode"] == 200
    assert "url: 'openapi.json'" in docs["body"]  # resolves to {root}/openapi.json
    spec = handler(make("/openapi.json"), None)
    assert spec["statusCode"] == 200
    assert json.loads(spec["body"])["servers"] == [{"url": root}]


@pytest.mark.parametrize(("make", "root"), BASES, ids=BASE_IDS)
def test_links_carry_the_base_path(handler: LambdaAdapter, make: Any, root: str) -> None:
    create = make("/orders")
    create["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "eve"}}}
    create["requestContext"]["authorizer"]["claims"] = {"sub": "eve"}
    create["body"] = json.dumps(TEA)
    create["headers"]["content-type"] = "application/json"
    create.get("multiValueHeaders", {})["content-type"] = ["application/json"]
    if "httpMethod" in create:
        create["httpMethod"] = "POST"
    else:
        create["requestContext"]["http"]["method"] = "POST"
        create["routeKey"] = create["requestContext"]["routeKey"] = "ANY /orders"
    response = handler(create, None)
    assert response["statusCode"] == 201, response
    order_id = json.loads(response["body"])["id"]
    assert response["headers"]["location"] == f"{root}/orders/{order_id}"


def test_without_a_stage_there_is_no_root_path(handler: LambdaAdapter) -> None:
    spec = handler(at("http-api-v2", "GET", "/openapi.json"), None)
    assert "servers" not in json.loads(spec["body"])


def test_the_minimal_event_helper_is_served(handler: LambdaAdapter) -> None:
    assert handler(event("GET", "/health", sub=None), None)["statusCode"] == 200


def test_an_alb_with_multi_value_headers_gets_multi_value_headers_back(
    extras: LambdaAdapter,
) -> None:
    """With multi-value headers on, an ALB sends and expects only ``multiValueHeaders``."""
    e = at("alb", "GET", "/cookies")
    e["multiValueHeaders"] = {k: [v] for k, v in e.pop("headers").items()}
    e["multiValueQueryStringParameters"] = e.pop("queryStringParameters")
    response = check_proxy_response(extras(e, None))
    assert response["statusCode"] == 200
    assert "headers" not in response
    cookies = response["multiValueHeaders"]["set-cookie"]
    assert sorted(c.split(";")[0] for c in cookies) == ["a=1", "b=2"]
    e["headers"] = None
    rejected = check_proxy_response(extras(e, None))
    assert rejected["statusCode"] == 400
    assert "headers" not in rejected
    assert rejected["multiValueHeaders"]["content-type"] == ["application/json"]


# --- hostile paths ------------------------------------------------------------------------

LIST_ROUTE = "ANY /orders"
# What no stage and no base path mapping can be: the root path would carry it into headers.
HOSTILE_PREFIXES = {
    "link-injection": '/prod>; rel="x"',
    "non-ascii": "/prod\u00e9",
    "percent-encoded-surrogate": "/%ED%A0%80",  # decodes to U+FFFD
    "lone-surrogate": "/\ud800",
    "space": "/a b",
    "a-second-level": "/prod/extra",
}


def _listing_v2(raw_path: str, stage: str) -> dict[str, Any]:
    e = at("http-api-v2", "GET", raw_path, sub="eve")
    e["rawQueryString"] = "limit=1"
    e["routeKey"] = e["requestContext"]["routeKey"] = LIST_ROUTE
    e["requestContext"]["stage"] = stage
    return e


def _listing_rest(path: str, stage: str) -> dict[str, Any]:
    e = at("rest-api-v1", "GET", path, sub="eve")
    e["queryStringParameters"], e["multiValueQueryStringParameters"] = {"limit": "1"}, None
    e["resource"], e["pathParameters"] = "/orders", None
    e["requestContext"].update(stage=stage, path=path)
    return e


def _quoted(path: str) -> str:
    return quote(path, safe="/", errors="surrogatepass")


@pytest.mark.parametrize("prefix", HOSTILE_PREFIXES.values(), ids=HOSTILE_PREFIXES.keys())
@pytest.mark.parametrize("stage", ["$default", "prod"])
def test_a_path_prefix_that_is_no_stage_is_a_400(
    handler: LambdaAdapter, prefix: str, stage: str
) -> None:
    """HTTP API: ``rawPath`` is the stage (if named) plus the route's path, nothing else."""
    for raw_path in (f"{prefix}/orders", f"{_quoted(prefix)}/orders"):
        response = check_proxy_response(handler(_listing_v2(raw_path, stage), None))
        assert response["statusCode"] == 400, (raw_path, response)
        assert json.loads(response["body"]) == {
            "detail": "Bad request event: the path in front of the route is not its stage"
        }


@pytest.mark.parametrize(
    "prefix", [p for k, p in HOSTILE_PREFIXES.items() if k != "a-second-level"]
)
def test_a_path_prefix_that_is_no_base_path_mapping_is_a_400(
    handler: LambdaAdapter, prefix: str
) -> None:
    """REST API: in front of the resource there may be the stage or a base path mapping."""
    response = check_proxy_response(handler(_listing_rest(f"{prefix}/orders", "prod"), None))
    assert response["statusCode"] == 400, response
    assert json.loads(response["body"])["detail"].endswith("its stage or base path mapping")


@pytest.mark.parametrize("path", ["/orders/\ud800", "/hi\udc80", "/\ud800/hi"])
@pytest.mark.parametrize("name", ["http-api-v2", "rest-api-v1", "alb"])
def test_a_lone_surrogate_in_the_routed_path_is_a_json_4xx(
    handler: LambdaAdapter, name: str, path: str
) -> None:
    response = check_proxy_response(handler(at(name, "GET", path, sub="eve"), None))
    assert response["statusCode"] in (400, 404, 422), response
    assert "detail" in json.loads(response["body"])


LINK = re.compile(r'^<(?P<url>https?://[^\s<>"]+)>; rel="next"$')


@pytest.mark.parametrize(("make", "root"), BASES, ids=BASE_IDS)
def test_the_link_is_the_root_path_and_the_listing_parameters_only(
    handler: LambdaAdapter, make: Any, root: str
) -> None:
    for _ in range(2):
        create = make("/orders")
        create["requestContext"]["authorizer"] = {"claims": {"sub": "lin"}}
        create["requestContext"]["authorizer"]["jwt"] = {"claims": {"sub": "lin"}}
        create["body"], create["headers"]["content-type"] = json.dumps(TEA), "application/json"
        create.get("multiValueHeaders", {})["content-type"] = ["application/json"]
        if "httpMethod" in create:
            create["httpMethod"] = "POST"
        else:
            create["requestContext"]["http"]["method"] = "POST"
            create["routeKey"] = create["requestContext"]["routeKey"] = LIST_ROUTE
        assert handler(create, None)["statusCode"] == 201
    listing = make("/orders")
    listing["requestContext"]["authorizer"] = create["requestContext"]["authorizer"]
    query = {"limit": "1", "cancelled": "false", "x": '>"; rel=evil'}
    if "httpMethod" in listing:
        listing["queryStringParameters"] = query
        listing["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    else:
        listing["rawQueryString"] = urlencode(query)
        listing["routeKey"] = listing["requestContext"]["routeKey"] = LIST_ROUTE
    response = check_proxy_response(handler(listing, None))
    assert response["statusCode"] == 200, response
    match = LINK.match(response["headers"]["link"])
    assert match, response["headers"]["link"]
    url = urlsplit(match["url"])
    assert url.path == f"{root}/orders"
    assert [k for k, _ in parse_qsl(url.query)] == ["cancelled", "limit", "cursor"]
