"""Baseline Lambda app: FastAPI + Mangum + boto3: one GetItem per ``GET /orders/{id}``, one
PutItem per ``POST /orders`` (its body checked by a pydantic model, as FastAPI apps do).

The simplest code a competent engineer would write for the job, built as the Lambda asset is
(bench/bundles.py: locked wheels, unchecked-hash bytecode). The caller is the gateway's JWT
``sub``.
"""

from __future__ import annotations

import importlib
import os
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import boto3
from fastapi import FastAPI, HTTPException, Request
from mangum import Mangum
from pydantic import BaseModel, Field

app = FastAPI()


session = boto3.Session()


def _table() -> Any:
    dynamodb = session.resource("dynamodb", endpoint_url=os.environ.get("DYNAMODB_ENDPOINT"))
    return dynamodb.Table(os.environ["ORDERS_TABLE"])


table = _table()


@app.get("/orders/{order_id}")
def get_order(order_id: str, request: Request) -> dict[str, Any]:
    claims = request.scope["aws.event"]["requestContext"]["authorizer"]["jwt"]["claims"]
    found = table.get_item(Key={"pk": claims["sub"], "sk": f"ORDER#{order_id}"}).get("Item")
    if found is None:
        raise HTTPException(status_code=404, detail="order not found")
    return {"id": order_id, "status": found["status"], "items": found["items"]}


class Item(BaseModel):
    product: str = Field(min_length=1, max_length=200)
    size: Literal["small", "medium", "big"]
    quantity: int = Field(default=1, ge=1)


class NewOrder(BaseModel):
    order: list[Item] = Field(min_length=1, max_length=100)


@app.post("/orders", status_code=201)
def create_order(body: NewOrder, request: Request) -> dict[str, Any]:
    claims = request.scope["aws.event"]["requestContext"]["authorizer"]["jwt"]["claims"]
    order_id = str(uuid.uuid4())
    created = datetime.now(UTC).isoformat()
    items = [item.model_dump() for item in body.order]
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
    return {"id": order_id, "created": created, "status": "created", "order": items}


handler = Mangum(app, lifespan="off")


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
