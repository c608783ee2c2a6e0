"""The local API Gateway emulator over real HTTP: events, authorizer, responses, limits."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.aws_lambda.factory import build_handler
from app.config import Settings
from app.contract import cors as app_cors
from devtools import dev_issuer
from devtools.gateway import GatewayConfig, create_gateway
from devtools.gateway.authorizer import Authorizer, Denied
from devtools.gateway.cors_configuration import CorsConfiguration
from devtools.gateway.function import Handler
from tests.gateway_support import dev_authorizer, serving

SAMPLE = json.loads((Path(__file__).parents[1] / "events" / "http-api-v2.json").read_text())
ORDER = {"order": [{"product": "latte", "size": "small"}]}


class Gateway:
    """A running emulator: its URL, the events it sent, and tokens from its issuer."""

    def __init__(self, base_url: str, events: list[dict[str, Any]], issuer: Path) -> None:
        self.base_url = base_url
        self.events = events
        self.issuer = issuer

    def token(self, sub: str, **kwargs: Any) -> str:
        return dev_issuer.mint(sub, folder=self.issuer, **kwargs)

    def client(self, sub: str | None = None) -> httpx.Client:
        headers = {"authorization": f"Bearer {self.token(sub)}"} if sub else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)


StartGateway = Callable[..., Gateway]


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[StartGateway]:
    """``start_gateway(handler_factory=..., timeout=...)``: an emulator on a free port; by
    default in front of the real Lambda handler on a fresh SQLite file."""
    stack: list[Any] = []

    def start(handler_factory: Callable[[], Handler] | None = None, **config: Any) -> Gateway:
        settings = Settings(
            store_url=f"sqlite:///{tmp_path / 'orders.db'}",
            greet_delay=config.pop("greet_delay", 0),
            identity_mode="gateway",
        )
        events: list[dict[str, Any]] = []
        scopes = config.pop("scopes", frozenset())
        config.setdefault("authorizer", dev_authorizer(tmp_path / "issuer", scopes))
        gateway_config = GatewayConfig(
            handler_factory=handler_factory or partial(build_handler, settings),
            events=events,
            **config,
        )
        running = serving(create_gateway(gateway_config))
        stack.append(running)
        return Gateway(running.__enter__(), events, tmp_path / "issuer")

    yield start
    for running in reversed(stack):
        running.__exit__(None, None, None)


def _fixed(result: object) -> Callable[[], Handler]:
    """A factory of a function that always returns ``result`` (and records its context)."""

    def factory() -> Handler:
        def handler(event: dict[str, Any], context: Any) -> object:
            return result

        return handler

    return factory


def test_event_has_the_http_api_2_0_shape(start_gateway: StartGateway) -> None:
    gateway = start_gateway()
    with gateway.client("alice") as client:
        response = client.get(
            "/orders/abc/def?limit=2&tag=a&tag=b",
            headers=[("X-Multi", "one"), ("x-multi", "two"), ("Cookie", "c1=1; c2=2")],
        )
    # The function answered (the app has no such path), not the gateway: {"detail": ...}.
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})
    (event,) = gateway.events
    assert set(event) <= set(SAMPLE)
    assert {"version", "routeKey", "rawPath", "rawQueryString", "headers"} <= set(event)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /orders/{proxy+}"
    assert event["rawPath"] == "/orders/abc/def"
    assert event["rawQueryString"] == "limit=2&tag=a&tag=b"
    assert event["queryStringParameters"] == {"limit": "2", "tag": "a,b"}
    assert event["pathParameters"] == {"proxy": "abc/def"}
    assert event["cookies"] == ["c1=1", "c2=2"]
    assert event["headers"]["x-multi"] == "one,two"
    assert "cookie" not in event["headers"]
    assert all(name == name.lower() for name in event["headers"])
    assert event["headers"]["x-forwarded-proto"] == "http"
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert set(context) - {"authorizer"} <= set(SAMPLE["requestContext"])
    assert set(context["http"]) == set(SAMPLE["requestContext"]["http"])
    assert context["http"]["method"] == "GET"
    assert context["http"]["path"] == "/orders/abc/def"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["stage"] == "$default"
    assert context["routeKey"] == event["routeKey"]
    assert response.headers["apigw-requestid"] == context["requestId"]
    assert isinstance(context["timeEpoch"], int)
    claims = context["authorizer"]["jwt"]["claims"]
    assert claims["sub"] == "alice"
    assert claims["iss"] == dev_issuer.DEV_ISSUER
    assert all(isinstance(v, str) for v in claims.values())  # stringified, as API Gateway does


def test_public_routes_need_no_token_and_carry_no_claims(start_gateway: StartGateway) -> None:
    gateway = start_gateway()
    with gateway.client() as client:
        assert client.get("/hi").status_code == 200
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/openapi.json").status_code == 200
    assert all("authorizer" not in e["requestContext"] for e in gateway.events)
    assert [e["routeKey"] for e in gateway.events] == [
        "ANY /hi",
        "ANY /health",
        "ANY /openapi.json",
    ]


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        (None, "Bearer"),
        ("Bearer not-a-jwt", 'error="invalid_token"'),
        ("Basic YWxpY2U6c2VjcmV0", 'error="invalid_token"'),
        ("Bearer", 'error="invalid_token"'),
    ],
)
def test_protected_routes_answer_401_like_api_gateway(
    start_gateway: StartGateway, authorization: str | None, challenge: str
) -> None:
    gateway = start_gateway()
    headers = {"authorization": authorization} if authorization is not None else {}
    with gateway.client() as client:
        for method, path in [
            ("GET", "/orders"),
            ("POST", "/orders/x/pay"),
            ("DELETE", "/orders/1"),
        ]:
            response = client.request(method, path, headers=headers)
            assert response.status_code == 401
            assert response.json() == {"message": "Unauthorized"}
            assert challenge in response.headers["www-authenticate"]
    assert gateway.events == []  # the function is never invoked


def test_expired_and_foreign_tokens_are_refused(
    start_gateway: StartGateway, tmp_path: Path
) -> None:
    gateway = start_gateway()
    expired = gateway.token("alice", ttl=-600)
    foreign = dev_issuer.mint("alice", folder=tmp_path / "another-issuer")
    with gateway.client() as client:
        for token in (expired, foreign):
            response = client.get("/orders", headers={"authorization": f"Bearer {token}"})
            assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})
    assert gateway.events == []


def test_a_dev_issuer_token_acts_as_its_subject(start_gateway: StartGateway) -> None:
    gateway = start_gateway()
    with gateway.client("alice") as alice, gateway.client("bob") as bob:
        created = alice.post("/orders", json=ORDER)
        assert created.status_code == 201
        order_id = created.json()["id"]
        assert created.headers["location"] == f"/orders/{order_id}"
        assert alice.get(f"/orders/{order_id}").json()["id"] == order_id
        assert bob.get(f"/orders/{order_id}").status_code == 404
        assert bob.get("/orders").json() == {"orders": []}
        deleted = alice.delete(f"/orders/{order_id}")
        assert deleted.status_code == 204
        assert deleted.content == b""
        assert "content-type" not in deleted.headers


def test_binary_request_bodies_reach_the_function_base64_encoded(
    start_gateway: StartGateway,
) -> None:
    gateway = start_gateway()
    payload = bytes(range(256))
    with gateway.client("alice") as client:
        response = client.post(
            "/orders", content=payload, headers={"content-type": "application/octet-stream"}
        )
        assert response.status_code == 422  # the app decoded it, and it is no JSON order
        text = client.post("/orders", json=ORDER)
        assert text.status_code == 201
    binary, json_event = gateway.events
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == payload
    assert json_event["isBase64Encoded"] is False
    assert json.loads(json_event["body"]) == ORDER


def test_proxy_responses_become_http_responses(start_gateway: StartGateway) -> None:
    result = {
        "statusCode": 201,
        "headers": {"content-type": "image/png", "x-one": "1"},
        "multiValueHeaders": {"x-many": ["a", "b"]},
        "cookies": ["session=abc; HttpOnly", "theme=dark"],
        "body": base64.b64encode(b"\x89PNG\x00\xff").decode(),
        "isBase64Encoded": True,
    }
    gateway = start_gateway(handler_factory=_fixed(result))
    with gateway.client() as client:
        response = client.get("/hi")
    assert response.status_code == 201
    assert response.content == b"\x89PNG\x00\xff"
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-one"] == "1"
    assert response.headers.get_list("x-many") == ["a", "b"]
    assert response.headers.get_list("set-cookie") == ["session=abc; HttpOnly", "theme=dark"]


def test_a_json_object_without_status_code_is_a_200_body(start_gateway: StartGateway) -> None:
    gateway = start_gateway(handler_factory=_fixed({"hello": "world"}))
    with gateway.client() as client:
        response = client.get("/hi")
    assert (response.status_code, response.json()) == (200, {"hello": "world"})


@pytest.mark.parametrize(
    "result",
    [
        None,
        ["not", "an", "object"],
        {"statusCode": "200", "body": ""},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
        {"statusCode": 200, "body": "", "headers": {"x": ["list"]}},
        {"statusCode": 200, "body": "", "cookies": "a=1"},
        {"statusCode": 200, "body": "", "headers": {"x-a": "b\r\nset-cookie: c=d"}},
        {"statusCode": 200, "body": "", "headers": {"a name": "x"}},
    ],
)
def test_malformed_proxy_responses_are_502(start_gateway: StartGateway, result: object) -> None:
    gateway = start_gateway(handler_factory=_fixed(result))
    with gateway.client() as client:
        response = client.get("/hi")
    assert (response.status_code, response.json()) == (502, {"message": "Internal Server Error"})
    assert response.headers["apigw-requestid"]


def _unsigned_token(header: dict[str, str]) -> str:
    parts = [json.dumps(header), json.dumps({"sub": "alice"}), "signature"]
    return ".".join(base64.urlsafe_b64encode(p.encode()).rstrip(b"=").decode() for p in parts)


@pytest.mark.parametrize("field", ["kid", "alg"])
def test_a_token_header_field_that_is_not_latin_1_is_a_401(
    start_gateway: StartGateway, field: str
) -> None:
    gateway = start_gateway()
    token = _unsigned_token({"alg": "RS256", "kid": "k", field: "\u043a\u043b\u044e\u0447\r\n"})
    with gateway.client() as client:
        response = client.get("/orders", headers={"authorization": f"Bearer {token}"})
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})
    assert response.headers["apigw-requestid"]
    challenge = response.headers["www-authenticate"]
    assert challenge.isascii()
    assert "'\\u043a\\u043b\\u044e\\u0447\\r\\n'" in challenge  # shown, escaped
    assert gateway.events == []


class BrokenAuthorizer(Authorizer):
    """An authorizer with a fault of its own (an emulator bug, not the token's)."""

    async def authorize(self, authorization: str | None) -> Mapping[str, Any] | Denied:
        raise RuntimeError("the emulator failed")


def test_a_fault_of_the_emulator_is_api_gateways_json_500(
    start_gateway: StartGateway, tmp_path: Path
) -> None:
    dev_issuer.signing_key(tmp_path / "issuer")
    broken = BrokenAuthorizer(
        issuer=dev_issuer.DEV_ISSUER,
        audiences=frozenset({dev_issuer.DEV_AUDIENCE}),
        jwks_url=f"file:{tmp_path / 'issuer' / 'jwks.json'}",
    )
    gateway = start_gateway(authorizer=broken)
    with gateway.client("alice") as client:
        response = client.get("/orders")
    assert (response.status_code, response.json()) == (500, {"message": "Internal Server Error"})
    assert response.headers["apigw-requestid"]


def test_a_function_that_raises_is_a_500(start_gateway: StartGateway) -> None:
    def factory() -> Handler:
        def handler(event: dict[str, Any], context: Any) -> object:
            raise RuntimeError("boom")

        return handler

    gateway = start_gateway(handler_factory=factory)
    with gateway.client() as client:
        response = client.get("/hi")
    assert (response.status_code, response.json()) == (500, {"message": "Internal Server Error"})


def test_the_context_object_is_lambda_like(start_gateway: StartGateway) -> None:
    seen: list[Any] = []

    def factory() -> Handler:
        def handler(event: dict[str, Any], context: Any) -> object:
            seen.append((context, context.get_remaining_time_in_millis()))
            return {"statusCode": 204}

        return handler

    gateway = start_gateway(handler_factory=factory, timeout=7.0)
    with gateway.client() as client:
        assert client.get("/hi").status_code == 204
        assert client.get("/hi").status_code == 204
    (first, remaining), (second, _) = seen
    assert 0 < remaining <= 7000
    assert first.aws_request_id != second.aws_request_id
    assert first.function_name == "orders-api-local"
    assert first.invoked_function_arn.endswith(":function:orders-api-local")
    assert first.memory_limit_in_mb == 512


def test_payloads_over_10_mb_are_413(start_gateway: StartGateway) -> None:
    gateway = start_gateway(handler_factory=_fixed({"statusCode": 200, "body": "ok"}))
    limit = 10 * 1024 * 1024
    with gateway.client() as client:
        too_big = client.post("/hi", content=b"x" * (limit + 1))
        assert too_big.status_code == 413
        assert too_big.json() == {"message": "Request Entity Too Large"}
        assert gateway.events == []
        assert client.get("/hi", headers={"x-pad": "y" * 1000}).status_code == 200


def test_request_line_and_headers_over_10_kb_are_refused(start_gateway: StartGateway) -> None:
    gateway = start_gateway(handler_factory=_fixed({"statusCode": 200, "body": "ok"}))
    with gateway.client() as client:
        response = client.get("/hi", headers={"x-pad": "y" * 10_300})
        assert response.status_code == 431
        assert response.json() == {"message": "Request Header Fields Too Large"}
        assert client.get("/hi", headers={"x-pad": "y" * 9_000}).status_code == 200


def test_integration_timeout_is_504(start_gateway: StartGateway) -> None:
    gateway = start_gateway(greet_delay=1.5, timeout=0.3)
    with gateway.client() as client:
        response = client.get("/hi")
        assert response.status_code == 504
        assert response.json() == {"message": "Endpoint request timed out"}
        assert client.get("/health").status_code == 200  # the environment serves on


def test_unknown_routes_are_404_before_any_authorization(start_gateway: StartGateway) -> None:
    gateway = start_gateway()
    with gateway.client() as client:
        for method, path in [("GET", "/"), ("GET", "/nope"), ("GET", "/hi/")]:
            response = client.request(method, path)
            assert (response.status_code, response.json()) == (404, {"message": "Not Found"})
    assert gateway.events == []


def test_a_wrong_method_on_a_public_path_is_the_apps_405(start_gateway: StartGateway) -> None:
    gateway = start_gateway()
    with gateway.client() as client:
        response = client.post("/health")
        head = client.head("/health")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == "GET, HEAD"
    assert (head.status_code, head.content) == (200, b"")
    assert [e["routeKey"] for e in gateway.events] == ["ANY /health", "ANY /health"]


ALLOWED = "http://app.example"
PREFLIGHT = {
    "origin": ALLOWED,
    "access-control-request-method": "PUT",
    "access-control-request-headers": "authorization,content-type,if-match",
}


def test_with_cors_the_gateway_answers_preflights_without_a_token(
    start_gateway: StartGateway,
) -> None:
    gateway = start_gateway(cors=CorsConfiguration((ALLOWED,)))
    with gateway.client() as client:
        for path in ("/orders", "/orders/some-id/pay", "/hi", "/not-routed"):
            response = client.options(path, headers=PREFLIGHT)
            assert response.status_code == 204, path
            assert response.headers["access-control-allow-origin"] == ALLOWED
            assert response.headers["access-control-allow-methods"] == "GET,POST,PUT,DELETE"
            assert response.headers["access-control-allow-headers"] == ",".join(
                app_cors.ALLOW_HEADERS
            )
            assert response.headers["access-control-max-age"] == "3600"
        other = client.options("/orders", headers={**PREFLIGHT, "origin": "http://evil.example"})
        assert other.status_code == 204
        assert not any(h.startswith("access-control-") for h in other.headers)
    assert gateway.events == []  # API Gateway answered every preflight itself


def test_with_cors_answers_carry_the_policy_for_allowed_origins_only(
    start_gateway: StartGateway,
) -> None:
    gateway = start_gateway(cors=CorsConfiguration((ALLOWED,)))
    with gateway.client("alice") as client:
        created = client.post("/orders", json=ORDER, headers={"origin": ALLOWED})
        assert created.status_code == 201
        assert created.headers["access-control-allow-origin"] == ALLOWED
        exposed = created.headers["access-control-expose-headers"].split(",")
        assert exposed == list(app_cors.EXPOSE_HEADERS)
        other = client.get("/orders", headers={"origin": "http://evil.example"})
        assert other.status_code == 200  # served; the browser withholds it from the page
        assert "access-control-allow-origin" not in other.headers
    with gateway.client() as anonymous:  # API Gateway's own 401 carries the headers too
        refused = anonymous.get("/orders", headers={"origin": ALLOWED})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == ALLOWED


def test_with_cors_the_integrations_cors_headers_are_ignored(
    start_gateway: StartGateway,
) -> None:
    own = {"access-control-allow-origin": "*", "access-control-allow-credentials": "true"}
    gateway = start_gateway(
        handler_factory=_fixed({"statusCode": 200, "headers": own, "body": "{}"}),
        cors=CorsConfiguration((ALLOWED,)),
    )
    with gateway.client() as client:
        response = client.get("/hi", headers={"origin": "http://evil.example"})
    assert not any(h.startswith("access-control-") for h in response.headers)


def test_without_cors_a_preflight_meets_the_authorizer_and_invokes_nothing(
    start_gateway: StartGateway,
) -> None:
    """No CORS, no preflight route: as on AWS, a token-less OPTIONS never reaches the function."""
    gateway = start_gateway()
    with gateway.client() as client:
        response = client.options("/orders", headers=PREFLIGHT)
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})
    assert "access-control-allow-origin" not in response.headers
    assert gateway.events == []


def test_a_token_without_the_required_scope_is_403(start_gateway: StartGateway) -> None:
    gateway = start_gateway(scopes=frozenset({dev_issuer.DEV_SCOPE}))
    id_token_like = gateway.token("alice", scope=None)
    with gateway.client() as client:
        refused = client.get("/orders", headers={"authorization": f"Bearer {id_token_like}"})
        other = gateway.token("alice", scope="profile email")
        also = client.get("/orders", headers={"authorization": f"Bearer {other}"})
    for response in (refused, also):
        assert (response.status_code, response.json()) == (403, {"message": "Forbidden"})
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    with gateway.client("alice") as client:  # make token's scope
        assert client.get("/orders").status_code == 200


def test_repeated_header_lines_get_the_answer_they_get_from_the_local_server(
    start_gateway: StartGateway,
) -> None:
    """Joined with commas on the way (as API Gateway does): two Idempotency-Key lines are
    422, two If-Match lines accept the tags of both (tests/test_server_framing.py and
    tests/test_same_answer.py ask the same of the local server and the handler)."""
    gateway = start_gateway()
    order = {"order": [{"product": "latte", "size": "big"}]}
    with gateway.client("alice") as client:
        keys = [("Idempotency-Key", "k-a"), ("Idempotency-Key", "k-b")]
        refused = client.post("/orders", json=order, headers=keys)
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
        assert client.get("/orders").json() == {"orders": []}
        oid = client.post("/orders", json=order).json()["id"]
        tags = [("If-Match", '"7"'), ("If-Match", '"1"')]
        assert client.post(f"/orders/{oid}/pay", headers=tags).status_code == 200


def test_two_authorization_lines_are_one_joined_value_the_authorizer_refuses(
    start_gateway: StartGateway,
) -> None:
    """API Gateway joins repeated header lines with a comma before its JWT authorizer reads
    them: "Bearer a, Bearer b" is no token, so two lines are a 401 even when each is valid."""
    gateway = start_gateway()
    token = gateway.token("alice")
    with httpx.Client(base_url=gateway.base_url, timeout=30) as client:
        lines = [("authorization", f"Bearer {token}"), ("authorization", f"Bearer {token}")]
        refused = client.get("/orders", headers=lines)
        assert refused.status_code == 401
        assert refused.json() == {"message": "Unauthorized"}
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        assert gateway.events == []  # the function never saw it
        alone = client.get("/orders", headers={"authorization": f"Bearer {token}"})
        assert alone.status_code == 200
