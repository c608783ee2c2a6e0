# mypy: allow-untyped-decorators
# (Powertools is installed in the baseline's bundle only, so mypy sees its decorators untyped.)
"""Baseline Lambda app: Powertools' HTTP API event handler + boto3, one GetItem per order.

The same work as ``orders_boto3.py`` without FastAPI: Powertools for AWS Lambda (Python)'s
``APIGatewayHttpResolver``, the way its documentation writes a route. Built as the Lambda asset
is (bench/bundles.py). The caller is the gateway's JWT ``sub``.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

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
