# mypy: allow-untyped-decorators
# (Powertools is installed in the baseline's bundle only, so mypy sees its decorators untyped.)
"""Baseline Lambda app: Powertools' HTTP API event handler + boto3, one GetItem per order.

The same work as ``orders_boto3.py`` without FastAPI: Powertools for AWS Lambda (Python)'s
``APIGatewayHttpResolver``, the way its documentation writes a route. Built as the Lambda asset
is (bench/bundles.py). The caller is the gateway's JWT ``sub``.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

app = APIGatewayHttpResolver()
table = boto3.resource("dynamodb", endpoint_url=os.environ.get("DYNAMODB_ENDPOINT")).Table(
    os.environ["ORDERS_TABLE"]
)


@app.get("/orders/<order_id>")
def get_order(order_id: str) -> dict[str, Any]:
    claims = app.current_event.request_context.authorizer.jwt_claim
    found = table.get_item(Key={"pk": claims["sub"], "sk": f"ORDER#{order_id}"}).get("Item")
    if found is None:
        raise NotFoundError("order not found")
    return {"id": order_id, "status": found["status"], "items": found["items"]}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = app.resolve(event, context)
    return response
