"""The OpenAPI document describes every operation, status code and schema of the contract."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from app.config import Settings
from app.contract.gateway_routes import PUBLIC_PATHS
from app.main import create_app
from tests.api.test_orders_api import PRODUCT_NAMES

pytestmark = pytest.mark.anyio

EXPECTED_CODES = {
    ("/hi", "get"): {"200"},
    ("/health", "get"): {"200", "422", "503"},
    ("/orders", "post"): {"201", "409", "413", "422", "503"},
    ("/orders", "get"): {"200", "400", "413", "422", "503"},
    ("/orders/{order_id}", "get"): {"200", "404", "413", "422", "503"},
    ("/orders/{order_id}", "put"): {"200", "404", "409", "412", "413", "422", "503"},
    ("/orders/{order_id}", "delete"): {"204", "404", "412", "413", "422", "503"},
    ("/orders/{order_id}/pay", "post"): {"200", "404", "409", "412", "413", "422", "503"},
    ("/orders/{order_id}/cancel", "post"): {"200", "404", "409", "412", "413", "422", "503"},
}


@pytest.fixture
async def spec(client: httpx.AsyncClient) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get("/openapi.json")).json()
    return body


async def test_every_operation_declares_every_status(spec: dict[str, Any], transport: str) -> None:
    operations = {
        (path, method): set(op["responses"])
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    # Through Lambda the identity is the gateway's: every private operation may answer 401 and
    # 403, every operation API Gateway's 429.
    verified = transport != "asgi"
    expected = {
        (path, method): codes | (secured_codes(path) if verified else set())
        for (path, method), codes in EXPECTED_CODES.items()
    }
    assert operations == expected


def secured_codes(path: str) -> set[str]:
    """What a verifying identity adds to the statuses an operation at ``path`` documents."""
    return {"429"} if path in PUBLIC_PATHS else {"401", "403", "429"}


async def test_order_schema_is_exactly_the_contract(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    order = schemas["GetOrderSchema"]
    assert set(order["properties"]) == {"id", "created", "status", "order"}
    assert order["additionalProperties"] is False
    assert order["properties"]["id"]["format"] == "uuid"
    assert order["properties"]["created"]["format"] == "date-time"
    status = schemas["Status"]["enum"]
    assert status == ["created", "paid", "progress", "cancelled", "dispatched", "delivered"]
    # A request's item may leave out its quantity (1); a response's item always has one.
    requested, answered = schemas["OrderItemSchema"], schemas["GetOrderItemSchema"]
    create = schemas["CreateOrderSchema"]["properties"]["order"]
    assert create["items"] == {"$ref": "#/components/schemas/OrderItemSchema"}
    assert order["properties"]["order"]["items"] == {
        "$ref": "#/components/schemas/GetOrderItemSchema"
    }
    assert requested["required"] == ["product", "size"]
    assert answered["required"] == ["product", "size", "quantity"]
    quantity = {"type": "integer", "maximum": 1_000_000, "minimum": 1, "title": "Quantity"}
    assert requested["properties"]["quantity"] == {**quantity, "default": 1}
    assert answered["properties"]["quantity"] == quantity
    for item in (requested, answered):
        assert item["additionalProperties"] is False
        assert item["properties"]["product"] == requested["properties"]["product"]
    assert schemas["HealthSchema"]["required"] == ["status"]
    assert schemas["Size"]["enum"] == ["small", "medium", "big"]
    assert create["minItems"] == 1


async def test_delete_204_documents_no_body(spec: dict[str, Any]) -> None:
    assert "content" not in spec["paths"]["/orders/{order_id}"]["delete"]["responses"]["204"]


async def test_created_response_documents_location(spec: dict[str, Any]) -> None:
    created = spec["paths"]["/orders"]["post"]["responses"]["201"]
    assert "Location" in created.get("headers", {})


async def test_listing_documents_the_link_header(spec: dict[str, Any]) -> None:
    listed = spec["paths"]["/orders"]["get"]["responses"]["200"]
    assert "Link" in listed.get("headers", {})


# The operations that answer with an order: (path, method, success status).
ORDER_RESPONSES = [
    ("/orders", "post", "201"),
    ("/orders/{order_id}", "get", "200"),
    ("/orders/{order_id}", "put", "200"),
    ("/orders/{order_id}/pay", "post", "200"),
    ("/orders/{order_id}/cancel", "post", "200"),
]


@pytest.mark.parametrize(("path", "method", "status"), ORDER_RESPONSES)
async def test_etag_is_documented(
    spec: dict[str, Any], path: str, method: str, status: str
) -> None:
    assert "ETag" in spec["paths"][path][method]["responses"][status]["headers"]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/orders/{order_id}", "put"),
        ("/orders/{order_id}", "delete"),
        ("/orders/{order_id}/pay", "post"),
        ("/orders/{order_id}/cancel", "post"),
    ],
)
async def test_if_match_is_documented(spec: dict[str, Any], path: str, method: str) -> None:
    params = spec["paths"][path][method]["parameters"]
    assert any(p["in"] == "header" and p["name"] == "If-Match" for p in params)


# The CoffeeMesh contract's operation ids (generated clients name their functions after them).
OPERATION_IDS = {
    ("/hi", "get"): "getGreeting",
    ("/health", "get"): "getHealth",
    ("/orders", "get"): "getOrders",
    ("/orders", "post"): "createOrder",
    ("/orders/{order_id}", "get"): "getOrder",
    ("/orders/{order_id}", "put"): "updateOrder",
    ("/orders/{order_id}", "delete"): "deleteOrder",
    ("/orders/{order_id}/pay", "post"): "payOrder",
    ("/orders/{order_id}/cancel", "post"): "cancelOrder",
}


async def test_operation_ids_are_the_contracts(spec: dict[str, Any]) -> None:
    ids = {
        (path, method): op["operationId"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    assert ids == OPERATION_IDS


LINKED_OPERATIONS = {
    "GetOrder": "getOrder",
    "UpdateOrder": "updateOrder",
    "PayOrder": "payOrder",
    "CancelOrder": "cancelOrder",
    "DeleteOrder": "deleteOrder",
}


@pytest.mark.parametrize(("path", "method", "status"), ORDER_RESPONSES)
async def test_order_responses_link_to_what_can_be_done_next(
    spec: dict[str, Any], path: str, method: str, status: str
) -> None:
    """Link Objects (OpenAPI 3.1 §4.8.20): the order's id feeds the path parameter of every
    operation on it, its ETag the If-Match of every write."""
    links = spec["paths"][path][method]["responses"][status]["links"]
    by_id = {op["operationId"]: op for item in spec["paths"].values() for op in item.values()}
    assert set(links) == set(LINKED_OPERATIONS)
    for name, operation_id in LINKED_OPERATIONS.items():
        link = links[name]
        assert link["operationId"] == operation_id
        assert "operationRef" not in link  # one of the two, never both
        # Each fed parameter is one the target declares ("header." names an HTTP header).
        declared = {(p["in"], p["name"]) for p in by_id[operation_id]["parameters"]}
        for fed in link["parameters"]:
            where, _, named = fed.rpartition(".")
            assert (where or "path", named) in declared, (name, fed)
        expected = {"order_id": "$response.body#/id"}
        if name != "GetOrder":
            expected["header.If-Match"] = "$response.header.ETag"
        assert link["parameters"] == expected
        assert link["description"]


async def test_product_pattern_means_the_same_in_every_regex_engine(spec: dict[str, Any]) -> None:
    """``\\s``/``\\S`` differ between pydantic (Rust), Python and JSON Schema's ECMA-262 regexes;
    the API's own answers to the same names are in test_orders_api."""
    schema = spec["components"]["schemas"]["OrderItemSchema"]["properties"]["product"]
    pattern = schema["pattern"]
    assert not re.search(r"\\[sSwWdDbB]", pattern)
    ecma = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    for name, accepted in PRODUCT_NAMES:
        assert bool(re.search(pattern, name)) is accepted, ascii(name)
        assert ecma.is_valid(name) is accepted, ascii(name)
    for blank in "\t\n\v\f\r \x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\ufeff":
        assert re.search(pattern, blank) is None, hex(ord(blank))
    for control in [*range(0x20), *range(0x7F, 0xA0)]:
        assert re.search(pattern, f"a{chr(control)}b") is None, hex(control)
        assert not ecma.is_valid(f"a{chr(control)}b"), hex(control)
    for other in "a☕é用":
        assert re.search(pattern, other), hex(ord(other))


async def test_security_is_documented_as_the_identity_mode_enforces_it(
    spec: dict[str, Any], transport: str
) -> None:
    secured = {
        path
        for path, item in spec["paths"].items()
        for op in item.values()
        if op.get("security") == [{"bearer": []}]
    }
    if transport == "asgi":  # the tests' header identity, like dev: no authentication
        assert "securitySchemes" not in spec["components"]
        assert secured == set()
    else:  # the gateway identity: API Gateway's JWT authorizer on every private route
        assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
        assert secured == set(spec["paths"]) - PUBLIC_PATHS


@pytest.fixture
async def jwt_spec(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'o.db'}",
        identity_mode="jwt",
        jwt_issuer="https://issuer.example",
        jwt_audience="orders-client",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield (await client.get("/openapi.json")).json()


async def test_jwt_identity_documents_bearer_auth_and_401(jwt_spec: dict[str, Any]) -> None:
    schemes = jwt_spec["components"]["securitySchemes"]
    assert schemes == {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    operations = {
        (path, method): op
        for path, item in jwt_spec["paths"].items()
        for method, op in item.items()
    }
    app_or_gateway = {
        "anyOf": [
            {"$ref": "#/components/schemas/ErrorSchema"},
            {"$ref": "#/components/schemas/GatewayErrorSchema"},
        ]
    }
    gateway = jwt_spec["components"]["schemas"]["GatewayErrorSchema"]
    assert (gateway["required"], gateway["properties"]["message"]["type"]) == (
        ["message"],
        "string",
    )
    for (path, method), op in operations.items():
        assert set(op["responses"]) == EXPECTED_CODES[(path, method)] | secured_codes(path)
        throttled = op["responses"]["429"]["content"]["application/json"]["schema"]
        assert throttled == {"$ref": "#/components/schemas/GatewayErrorSchema"}
        if path in PUBLIC_PATHS:
            assert "security" not in op
        else:
            assert op["security"] == [{"bearer": []}]
            for status in ("401", "403"):
                answer = op["responses"][status]
                assert "WWW-Authenticate" in answer["headers"]
                assert answer["content"]["application/json"]["schema"] == app_or_gateway
