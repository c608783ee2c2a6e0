"""Baseline Lambda app: FastAPI + Mangum + boto3, one GetItem per ``GET /orders/{id}``.

The simplest code a competent engineer would write for the job, built as the Lambda asset is
(bench/bundles.py: locked wheels, unchecked-hash bytecode). The caller is the gateway's JWT
``sub``.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from fastapi import FastAPI, HTTPException, Request
from mangum import Mangum

app = FastAPI()
table = boto3.resource("dynamodb", endpoint_url=os.environ.get("DYNAMODB_ENDPOINT")).Table(
    os.environ["ORDERS_TABLE"]
)


@app.get("/orders/{order_id}")
def get_order(order_id: str, request: Request) -> dict[str, Any]:
    claims = request.scope["aws.event"]["requestContext"]["authorizer"]["jwt"]["claims"]
    found = table.get_item(Key={"pk": claims["sub"], "sk": f"ORDER#{order_id}"}).get("Item")
    if found is None:
        raise HTTPException(status_code=404, detail="order not found")
    return {"id": order_id, "status": found["status"], "items": found["items"]}


handler = Mangum(app, lifespan="off")
