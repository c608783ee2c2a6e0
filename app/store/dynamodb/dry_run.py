"""A table in the process, for priming: ``InMemoryTable`` answers the store's requests.

The store builds, signs and sends each request through its transport as usual; ``InMemoryTable``
stands in for the connection pool and answers instead of the network. Only the calls a first
request makes are served (PutItem, GetItem, UpdateItem of the status or items, DeleteItem,
Query on the owner's partition; conditions are not evaluated); any other is refused as DynamoDB
refuses a bad request. A ``GET`` is answered as Lambda's container-credentials endpoint
answers (``CREDENTIALS_URL``), so that fetching and parsing keys runs too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpcore

from app.store.dynamodb.items import PK, SK, WRITE_ID

_JSON = [(b"content-type", b"application/x-amz-json-1.0")]
_DYNAMODB = "com.amazonaws.dynamodb.v20120810"
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

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        if request.method == b"GET":
            return _answer(_KEY)
        target = next((v for k, v in request.headers if k.lower() == b"x-amz-target"), b"")
        action = target.decode().rpartition(".")[2]
        payload: dict[str, Any] = json.loads(_body(request))
        if action == "PutItem":
            item = payload["Item"]
            self.items[(item[PK]["S"], item[SK]["S"])] = item
            return _answer({})
        if action == "GetItem":
            key = payload["Key"]
            found = self.items.get((key[PK]["S"], key[SK]["S"]))
            return _answer({} if found is None else {"Item": found})
        if action == "UpdateItem":
            return self._update(payload)
        if action == "DeleteItem":
            key = payload["Key"]
            self.items.pop((key[PK]["S"], key[SK]["S"]), None)
            return _answer({})
        if action == "Query":
            owner = payload["ExpressionAttributeValues"][":owner"]["S"]
            keys = sorted((k for k in self.items if k[0] == owner), reverse=True)
            items = [self.items[k] for k in keys]
            return _answer({"Items": items, "Count": len(items), "ScannedCount": len(items)})
        error = {
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": f"{action or 'a request without X-Amz-Target'} is not served in memory",
        }
        return _answer(error, 400)

    async def aclose(self) -> None:
        """Nothing to close: no connection is ever opened."""

    def _update(self, payload: dict[str, Any]) -> httpcore.Response:
        """The store's updates: ``:status`` and ``:items`` set, the version bumped."""
        key = payload["Key"]
        found = self.items.get((key[PK]["S"], key[SK]["S"]))
        if found is None:
            error = {"__type": f"{_DYNAMODB}#ConditionalCheckFailedException", "message": "none"}
            return _answer(error, 400)
        values = payload.get("ExpressionAttributeValues", {})
        item = {**found, "version": {"N": str(int(found["version"]["N"]) + 1)}}
        for name in ("status", "items", WRITE_ID):
            if f":{name}" in values:
                item[name] = values[f":{name}"]
        self.items[(key[PK]["S"], key[SK]["S"])] = item
        return _answer({"Attributes": item})


def _body(request: httpcore.Request) -> bytes:
    stream = request.stream  # the transport sends bytes: httpcore wraps them in a ByteStream
    if not isinstance(stream, Iterable):
        raise TypeError("the dry run reads bodies sent as bytes")
    return b"".join(stream)


def _answer(document: dict[str, Any], status: int = 200) -> httpcore.Response:
    return httpcore.Response(status, headers=_JSON, content=json.dumps(document).encode())
