# mypy: allow-untyped-decorators
# (Powertools is installed in the baseline's bundle only, so mypy sees its decorators untyped.)
"""Baseline Lambda app: Powertools' HTTP API event handler + boto3: one GetItem per order,
one PutItem per new order.

The same work as ``orders_boto3.py`` without FastAPI: Powertools for AWS Lambda (Python)'s
``APIGatewayHttpResolver``, the way its documentation writes a route (the body read from
``current_event.json_body``, checked by hand: the bundle has no pydantic, which Powertools'
``enable_validation`` would import). Built as the Lambda asset is (bench/bundles.py). The caller
is the gateway's JWT ``sub``.
"""

from __future__ import annotations

import importlib
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError

app = APIGatewayHttpResolver()


session = boto3.Session()


def _table() -> Any:
    dynamodb = session.resource("dynamodb", endpoint_url=os.environ.get("DYNAMODB_ENDPOINT"))
    return dynamodb.Table(os.environ["ORDERS_TABLE"])


table = _table()


@app.get("/orders/<order_id>")
def get_order(order_id: str) -> dict[str, Any]:
    claims = app.current_event.request_context.authorizer.jwt_claim
    found = table.get_item(Key={"pk": claims["sub"], "sk": f"ORDER#{order_id}"}).get("Item")
    if found is None:
        raise NotFoundError("order not found")
    return {"id": order_id, "status": found["status"], "items": found["items"]}


SIZES = ("small", "medium", "big")


def _items(body: Any) -> list[dict[str, Any]]:
    order = body.get("order") if isinstance(body, dict) else None
    if not isinstance(order, list) or not 1 <= len(order) <= 100:
        raise BadRequestError("order: a list of 1 to 100 items")
    items = []
    for item in order:
        if not isinstance(item, dict):
            raise BadRequestError("order: each item is an object")
        product, size, quantity = item.get("product"), item.get("size"), item.get("quantity", 1)
        if not isinstance(product, str) or not 1 <= len(product) <= 200:
            raise BadRequestError("product: a string of 1 to 200 characters")
        if size not in SIZES:
            raise BadRequestError("size: small, medium or big")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise BadRequestError("quantity: a whole number from 1")
        items.append({"product": product, "size": size, "quantity": quantity})
    return items


@app.post("/orders")
def create_order() -> tuple[dict[str, Any], int]:
    items = _items(app.current_event.json_body)
    claims = app.current_event.request_context.authorizer.jwt_claim
    order_id = str(uuid.uuid4())
    created = datetime.now(UTC).isoformat()
    table.put_item(
        Item={
            "pk": claims["sub"],
            "sk": f"ORDER#{order_id}",
            "created": created,
            "status": "created",
            "items": items,
            "version": 1,
        }
    )
    return {"id": order_id, "created": created, "status": "created", "order": items}, 201


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = app.resolve(event, context)
    return response


# Under SnapStart the keys the session resolved during init are expired or revoked after a
# restore (AWS's SnapStart guidance: renew credentials and connections taken during init in an
# after-restore hook). The session keeps the first credentials it resolved; forgetting them
# makes the new client fetch fresh ones. The cheapest way found: a new session would load the
# service models again (several times the cost of the whole hook).
def _fresh_table() -> None:
    global table
    session._session._credentials = None
    table = _table()


try:
    hooks = importlib.import_module("snapshot_restore_py")
except ImportError:  # not Lambda's Python runtime (bench/coldstart.py)
    pass
else:
    hooks.register_after_restore(_fresh_table)
