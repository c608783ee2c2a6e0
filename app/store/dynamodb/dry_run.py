"""A table in the process, for priming: ``InMemoryTable`` answers the store's requests.

The store builds, signs and sends each request through httpx as usual; an ``httpx.MockTransport``
hands it to ``InMemoryTable.handle`` instead of the network. Only the calls a first request
makes are served (PutItem, GetItem, Query on the owner's partition); any other is refused as
DynamoDB refuses a bad request. A ``GET`` is answered as Lambda's container-credentials endpoint
answers (``CREDENTIALS_URL``), so that fetching and parsing keys runs too.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from app.store.dynamodb.items import PK, SK

_JSON = {"content-type": "application/x-amz-json-1.0"}
CREDENTIALS_URL = "http://credentials.dry-run.invalid/2021-04-23/credentials"
_KEY = {
    "AccessKeyId": "DRYRUN",
    "SecretAccessKey": "DRYRUN",
    "Token": "DRYRUN",
    "Expiration": "2099-01-01T00:00:00Z",
}


class InMemoryTable:
    """Items by ``(pk, sk)``, in DynamoDB's attribute-value form."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=_KEY)
        action = request.headers.get("x-amz-target", "").rpartition(".")[2]
        payload: dict[str, Any] = json.loads(request.content)
        if action == "PutItem":
            item = payload["Item"]
            self.items[(item[PK]["S"], item[SK]["S"])] = item
            return _answer({})
        if action == "GetItem":
            key = payload["Key"]
            found = self.items.get((key[PK]["S"], key[SK]["S"]))
            return _answer({} if found is None else {"Item": found})
        if action == "Query":
            owner = payload["ExpressionAttributeValues"][":owner"]["S"]
            keys = sorted((k for k in self.items if k[0] == owner), reverse=True)
            items = [self.items[k] for k in keys]
            return _answer({"Items": items, "Count": len(items), "ScannedCount": len(items)})
        error = {
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": f"{action or 'a request without X-Amz-Target'} is not served in memory",
        }
        return httpx.Response(400, headers=_JSON, content=json.dumps(error).encode())


def _answer(document: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, headers=_JSON, content=json.dumps(document).encode())
