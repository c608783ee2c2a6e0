"""Credentials as Lambda hands them out and DynamoDB checks them, in this process.

The DynamoDB front of the local Lambda runtime (devtools/lambda_runtime) before moto's server
refuses keys the way DynamoDB does; the store takes its keys from the standard chain, here the
container-credentials endpoint a SnapStart function gets, and recovers when they go stale.
"""

from __future__ import annotations

import importlib.util
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
import uuid6
from aiodynamo.credentials import Key, StaticCredentials
from aiodynamo.errors import ExpiredToken, UnknownError, UnrecognizedClient
from aiodynamo.http.httpx import HTTPX
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.aws_lambda import hooks
from app.aws_lambda.adapter import LambdaAdapter
from app.domain.orders import Order, OrderItem, Size, Status
from app.store.dynamodb.admin import table_status
from app.store.dynamodb.client import DynamoDBClient
from app.store.dynamodb.config import DynamoDBConfig
from app.store.dynamodb.store import DynamoDBStore
from devtools.lambda_runtime.credentials import KeyRing, Verdict
from devtools.lambda_runtime.dynamodb_front import DynamoDBFront
from tests.conftest import fresh_dynamodb_table
from tests.gateway_support import serving

pytestmark = pytest.mark.anyio
TOKEN = "container-authorization-token"
REGION = "us-east-1"


@dataclass
class Front:
    keys: KeyRing
    front: DynamoDBFront
    url: str
    credentials_url: str
    table: str


def credentials_endpoint(keys: KeyRing, lifetime: float) -> Starlette:
    """A fake of Lambda's container-credentials endpoint: fresh keys for the right token."""

    async def credentials(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != TOKEN:
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        return JSONResponse(keys.issue(lifetime, "container").container_credentials())

    return Starlette(routes=[Route("/2021-04-23/credentials", credentials)])


@pytest.fixture
async def front(moto_endpoint: str) -> AsyncIterator[Front]:
    url = await fresh_dynamodb_table(moto_endpoint)
    keys = KeyRing()
    dynamodb = DynamoDBFront(keys, moto_endpoint)
    with serving(dynamodb) as front_url, serving(credentials_endpoint(keys, 3600)) as creds:
        yield Front(keys, dynamodb, front_url, creds, DynamoDBConfig.from_url(url).table)
    await dynamodb.aclose()


@pytest.fixture
def container_credentials(front: Front, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment of a SnapStart function: no keys, the endpoint and its token."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    uri = f"{front.credentials_url}/2021-04-23/credentials"
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri)
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", TOKEN)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never wait for IMDS here


async def describe(front: Front, key: Key) -> bool:
    async with httpx.AsyncClient() as http:
        client = DynamoDBClient(HTTPX(http), StaticCredentials(key), REGION, endpoint=front.url)
        return await table_status(client, front.table) is not None


def test_a_key_is_valid_until_it_expires_or_is_revoked() -> None:
    now = [1000.0]
    keys = KeyRing(clock=lambda: now[0])
    key = keys.issue(60, "container")
    assert keys.check(key.access_key_id, key.session_token) is Verdict.VALID
    assert keys.check(key.access_key_id, "another token") is Verdict.UNKNOWN
    assert keys.check("ASIAMADEUP", key.session_token) is Verdict.UNKNOWN
    now[0] += 60
    assert keys.check(key.access_key_id, key.session_token) is Verdict.EXPIRED
    fresh = keys.issue(60, "container")
    assert keys.revoke_all() == [key, fresh]
    assert keys.check(fresh.access_key_id, fresh.session_token) is Verdict.EXPIRED
    assert fresh.container_credentials()["Expiration"] == "1970-01-01T00:18:40Z"


async def test_the_front_refuses_keys_as_dynamodb_does(front: Front) -> None:
    key = front.keys.issue(60, "container")
    valid = Key(key.access_key_id, key.secret_access_key, key.session_token)
    assert await describe(front, valid)
    with pytest.raises(UnrecognizedClient):
        await describe(front, Key("testing", "testing"))  # never issued: baked-in test keys
    with pytest.raises(UnknownError) as wrong_secret:
        await describe(front, Key(key.access_key_id, "not the secret", key.session_token))
    assert wrong_secret.value.status == 400
    assert b"InvalidSignatureException" in wrong_secret.value.body
    front.keys.revoke_all()
    with pytest.raises(ExpiredToken):
        await describe(front, valid)
    async with httpx.AsyncClient() as http:
        target = {"x-amz-target": "DynamoDB_20120810.ListTables"}
        unsigned = await http.post(front.url, headers=target)
    assert unsigned.status_code == 400
    assert unsigned.headers["content-type"] == "application/x-amz-json-1.0"
    assert unsigned.json()["__type"].endswith("#MissingAuthenticationTokenException")
    outcomes = [seen.outcome for seen in front.front.seen()]
    assert outcomes == [
        "served",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "MissingAuthenticationTokenException",
    ]


def order() -> Order:
    return Order(
        id=uuid6.uuid7(),
        owner="alice",
        created=datetime.now(UTC).replace(microsecond=0),
        status=Status.CREATED,
        items=(OrderItem("latte", Size.SMALL, 1),),
    )


@pytest.fixture
async def store(front: Front, container_credentials: None) -> AsyncIterator[DynamoDBStore]:
    """A store on the front's table, with only container credentials in the environment."""
    opened = DynamoDBStore(DynamoDBConfig(front.table, REGION, endpoint=front.url))
    await opened.open()
    yield opened
    await opened.close()


async def test_the_store_signs_with_container_credentials(
    front: Front, store: DynamoDBStore
) -> None:
    created = order()
    await store.add(created)
    assert await store.get("alice", created.id) == created
    seen = front.front.seen()
    assert [s.outcome for s in seen] == ["served", "served"]
    issued = {k.access_key_id: k.purpose for k in front.keys.issued()}
    assert {issued[s.access_key_id] for s in seen if s.access_key_id} == {"container"}


async def test_expired_keys_are_fetched_again_and_reconnect_forgets_them(
    front: Front, store: DynamoDBStore
) -> None:
    created = order()
    await store.add(created)
    # The key expires before the client expected: DynamoDB refuses it once, the store
    # retries with a fresh one and the caller never sees the refusal.
    front.keys.revoke_all()
    assert await store.get("alice", created.id) == created
    assert [s.outcome for s in front.front.seen()][-2:] == ["ExpiredTokenException", "served"]
    # After a restore, reconnect() drops the cached key: no request with the old one.
    front.keys.revoke_all()
    before = len(front.front.seen())
    await store.reconnect()
    assert await store.get("alice", created.id) == created
    assert [s.outcome for s in front.front.seen()[before:]] == ["served"]
    served = [s.access_key_id for s in front.front.seen() if s.outcome == "served"]
    assert len(dict.fromkeys(served)) == 3  # the first key, the refetched one, the reconnected


class RecordingApp:
    """An ASGI app with nothing to serve; its lifespan completes."""

    async def __call__(self, scope: object, receive: object, send: object) -> None:
        raise RuntimeError("no lifespan")  # the adapter treats that as nothing to start


def test_the_after_restore_hook_reseeds_random_and_lets_the_app_reconnect() -> None:
    restored: list[float] = []

    async def on_restore() -> None:
        restored.append(time.monotonic())

    adapter = LambdaAdapter(RecordingApp(), on_restore=on_restore)
    try:
        random.seed(12345)  # what a snapshot would carry into every restored environment
        expected_without_reseed = random.Random(12345).random()
        hooks.after_restore(adapter)
        assert random.random() != expected_without_reseed
        assert len(restored) == 1
    finally:
        adapter.close()
    # Registering works where Lambda's snapshot_restore_py is importable (the runtime; here the
    # dev environment's awslambdaric brings it) and is a no-op elsewhere.
    available = importlib.util.find_spec("snapshot_restore_py") is not None
    assert hooks.register_after_restore(lambda: None) is available
