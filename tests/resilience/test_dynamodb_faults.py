"""DynamoDB faults injected at the HTTP layer: bounded retries, then 503 + Retry-After."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.store.dynamodb.config import DynamoDBConfig, RetryPolicy
from app.store.dynamodb.store import DynamoDBStore
from tests.conftest import fresh_dynamodb_table
from tests.faults import (
    FAULTS,
    MISCONFIGURED_ANSWERS,
    MORE_TRANSIENT_ANSWERS,
    REFUSED_ANSWERS,
    FaultyTransport,
)
from tests.support import HeaderIdentity, order_body

pytestmark = pytest.mark.anyio

FAST_RETRY = RetryPolicy(budget=0.5, base_delay=0.01, max_delay=0.05)
ROOMY = replace(FAST_RETRY, budget=5.0)  # where time-outs are not the point (a loaded machine)
BOUND = 5.0  # seconds: generous for a loaded CI machine, far below API Gateway's 30 s
WRITES = ("PutItem", "UpdateItem", "DeleteItem")
READS = ("GetItem", "Query")
UNAVAILABLE = {"detail": "The order store is temporarily unavailable; retry later"}
REFUSED = {"detail": "The order store could not accept this request"}
EVERY_CALL = (*READS, *WRITES, "TransactWriteItems")
# faults after which a request may have been applied (never: throttling, a refused connection)
MAYBE_APPLIED = ["internal-error", "bad-gateway", "unavailable", "read-timeout"]
READY = "/health?ready=1"


@dataclass
class Api:
    client: httpx.AsyncClient
    transport: FaultyTransport
    store: DynamoDBStore

    async def create(self) -> dict[str, Any]:
        response = await self.client.post("/orders", json=order_body("kept"))
        assert response.status_code == 201
        body: dict[str, Any] = response.json()
        return body

    async def snapshot(self) -> Any:
        return (await self.client.get("/orders")).json()


@asynccontextmanager
async def serving(store_url: str, policy: RetryPolicy) -> AsyncIterator[Api]:
    """The app on the DynamoDB store at ``store_url`` behind a FaultyTransport."""
    transport = FaultyTransport()
    config = replace(DynamoDBConfig.from_url(store_url), retry=policy)
    store = DynamoDBStore(config, connections=transport)
    app: FastAPI = create_app(
        Settings(store_url=store_url, greet_delay=0), store=store, identity=HeaderIdentity()
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield Api(client, transport, store)


@pytest.fixture
async def api(moto_endpoint: str) -> AsyncIterator[Api]:
    async with serving(await fresh_dynamodb_table(moto_endpoint), FAST_RETRY) as served:
        yield served


async def timed(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> httpx.Response:
    started = time.monotonic()
    response = await client.request(method, url, **kw)
    assert time.monotonic() - started < BOUND
    return response


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == UNAVAILABLE


@pytest.mark.parametrize("fault", FAULTS)
async def test_persistent_write_faults_are_503_and_change_nothing(
    api: Api, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    oid = (await api.create())["id"]
    before = await api.snapshot()
    api.transport.inject(fault, *WRITES)
    attempts = [
        ("POST", "/orders", order_body("new")),
        ("PUT", f"/orders/{oid}", order_body("replaced")),
        ("POST", f"/orders/{oid}/pay", None),
        ("POST", f"/orders/{oid}/cancel", None),
        ("DELETE", f"/orders/{oid}", None),
    ]
    with caplog.at_level(logging.WARNING, logger="app.store.dynamodb"):
        for method, url, body in attempts:
            assert_unavailable(await timed(api.client, method, url, json=body))
    retried = sum(api.transport.injected.values())
    assert retried > len(attempts)  # retried, within the time `timed` allows
    assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == len(attempts)
    api.transport.heal()
    assert await api.snapshot() == before


@pytest.mark.parametrize("fault", FAULTS)
async def test_persistent_read_faults_are_503(api: Api, fault: str) -> None:
    oid = (await api.create())["id"]
    api.transport.inject(fault, *READS)
    for url in (f"/orders/{oid}", "/orders", "/orders?cancelled=true&limit=1"):
        assert_unavailable(await timed(api.client, "GET", url))
    assert api.transport.injected["GetItem"] > 1
    assert api.transport.injected["Query"] > 2


@pytest.mark.parametrize("fault", FAULTS)
async def test_transient_faults_are_retried_transparently(api: Api, fault: str) -> None:
    api.transport.inject(fault, "PutItem", times=2)
    created = await api.create()
    oid = created["id"]
    api.transport.inject(fault, "GetItem", times=2)
    assert (await api.client.get(f"/orders/{oid}")).json() == created
    api.transport.inject(fault, "UpdateItem", times=2)
    paid = await api.client.post(f"/orders/{oid}/pay")
    assert (paid.status_code, paid.json()["status"]) == (200, "paid")
    api.transport.inject(fault, "Query", times=2)
    assert (await api.client.get("/orders")).json() == {"orders": [paid.json()]}
    api.transport.inject(fault, "DeleteItem", times=2)
    assert (await api.client.delete(f"/orders/{oid}")).status_code == 204
    api.transport.heal()
    assert (await api.client.get(f"/orders/{oid}")).status_code == 404
    assert api.transport.injected["DeleteItem"] == 2


@pytest.mark.parametrize("fault", MAYBE_APPLIED)
async def test_a_write_whose_answer_was_lost_counts_once(api: Api, fault: str) -> None:
    """The write reached the table but the answer did not: the retry must not report 409/404."""
    api.transport.inject(fault, "PutItem", times=1, after_forwarding=True)
    created = await api.create()
    oid = created["id"]
    assert api.transport.injected["PutItem"] == 1
    assert await api.snapshot() == {"orders": [created]}

    api.transport.inject(fault, "UpdateItem", times=1, after_forwarding=True)
    paid = await api.client.post(f"/orders/{oid}/pay")
    assert (paid.status_code, paid.json()["status"]) == (200, "paid")
    stored = await api.store.get("alice", UUID(oid))
    assert stored is not None
    assert stored.version == 2  # applied exactly once
    assert api.transport.injected["UpdateItem"] == 1

    api.transport.inject(fault, "DeleteItem", times=1, after_forwarding=True)
    assert (await api.client.delete(f"/orders/{oid}")).status_code == 204
    assert api.transport.injected["DeleteItem"] == 1
    api.transport.heal()
    assert (await api.client.get(f"/orders/{oid}")).status_code == 404


@pytest.mark.parametrize("fault", ["throttling", "connect-error"])
async def test_a_delete_retried_after_a_fault_that_applied_nothing_is_still_404(
    api: Api, fault: str
) -> None:
    oid = (await api.create())["id"]
    assert (await api.client.delete(f"/orders/{oid}")).status_code == 204
    api.transport.inject(fault, "DeleteItem", times=1)
    assert (await api.client.delete(f"/orders/{oid}")).status_code == 404
    assert api.transport.injected["DeleteItem"] == 1


async def test_a_conflict_is_still_a_conflict_after_a_lost_answer(api: Api) -> None:
    oid = (await api.create())["id"]
    assert (await api.client.post(f"/orders/{oid}/pay")).status_code == 200
    api.transport.inject("internal-error", "UpdateItem", times=1)
    response = await api.client.put(f"/orders/{oid}", json=order_body("late"))
    assert response.status_code == 409
    assert response.json() == {"detail": "Cannot replace an order whose status is paid"}


async def test_an_endpoint_that_never_answers_is_503_within_the_budget(
    aws_env: dict[str, str],
) -> None:
    """A real socket that accepts and stays silent: the client's read timeout must fire."""
    connections = 0
    finished = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.read(65536)
        await finished.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = (
        f"dynamodb://orders?endpoint=http://127.0.0.1:{port}"
        "&read_timeout=0.2&connect_timeout=0.2&retry_budget=1"
    )
    app = create_app(Settings(store_url=url, greet_delay=0), identity=HeaderIdentity())
    async with (
        server,
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        assert_unavailable(await timed(client, "GET", "/orders"))
        assert_unavailable(await timed(client, "POST", "/orders", json=order_body()))
        finished.set()
    assert connections >= 4  # each request was retried on a fresh connection


async def test_a_key_whose_claim_lands_after_the_503_is_free_for_the_retry(
    moto_endpoint: str,
) -> None:
    """moto stopped (SIGSTOP) during a keyed POST: 503 once the budget is spent; the claims the
    app gave up on reach the table after that (SIGCONT). A client that obeys Retry-After gets a
    fresh attempt, not a 409 for as long as a fixed lease."""
    policy = replace(FAST_RETRY, budget=2.0)
    key = {"Idempotency-Key": "frozen-1"}
    async with serving(await fresh_dynamodb_table(moto_endpoint), policy) as api:
        api.transport.freeze(read_timeout=0.6)  # attempts until the budget is spent
        first = await timed(api.client, "POST", "/orders", json=order_body("late"), headers=key)
        assert_unavailable(first)
        assert "PutItem" in await api.transport.thaw()  # a claim was applied after the 503
        answers = []
        for _ in range(3):
            await asyncio.sleep(int(first.headers["retry-after"]))
            retry = await api.client.post("/orders", json=order_body("late"), headers=key)
            answers.append(retry.status_code)
            if retry.status_code != 409:
                break
            assert retry.headers["retry-after"] == "1"
        assert answers[-1] == 201, answers
        replay = await api.client.post("/orders", json=order_body("late"), headers=key)
        assert (replay.status_code, replay.headers["idempotent-replayed"]) == (201, "true")
        assert replay.json() == retry.json()
        assert (await api.snapshot()) == {"orders": [retry.json()]}


@pytest.mark.parametrize("frozen", [("PutItem",), ("TransactWriteItems", "DeleteItem")])
async def test_a_keyed_write_answers_within_one_budget(
    moto_endpoint: str, frozen: tuple[str, ...]
) -> None:
    """Claim, write and release share one budget: a frozen write is not followed by a release
    with a budget of its own (which made a keyed 503 take twice the budget)."""
    policy = replace(FAST_RETRY, budget=1.0)
    async with serving(await fresh_dynamodb_table(moto_endpoint), policy) as api:
        api.transport.freeze(*frozen, read_timeout=0.4)  # 4 attempts outlast the budget
        started = time.monotonic()
        response = await api.client.post(
            "/orders", json=order_body("x"), headers={"Idempotency-Key": "budget-1"}
        )
        elapsed = time.monotonic() - started
        assert_unavailable(response)
        assert elapsed < policy.budget * 1.5
        await api.transport.thaw()


async def test_a_missing_table_is_503_with_a_clear_log_line_and_not_ready(
    moto_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    table = f"missing-{uuid.uuid4().hex[:8]}"
    url = f"dynamodb://{table}?endpoint={moto_endpoint}"
    async with serving(url, ROOMY) as api:
        assert (await api.client.get("/health")).json() == {"status": "ok"}  # alive
        with caplog.at_level(logging.ERROR, logger="app.store.dynamodb"):
            answers = [
                await api.client.get("/orders"),
                await api.client.get(f"/orders/{uuid.uuid4()}"),
                await api.client.post("/orders", json=order_body()),
                await api.client.post(
                    "/orders", json=order_body(), headers={"Idempotency-Key": "k"}
                ),
                await api.client.get("/health", params={"ready": "1"}),
            ]
        for answer in answers:
            assert (answer.status_code, answer.headers["retry-after"]) == (503, "30")
            assert answer.json() == UNAVAILABLE
        assert sum(api.transport.calls.values()) == len(answers)  # nothing retried
    problem = (
        f"DynamoDB store unusable: table {table!r} in us-east-1 at {moto_endpoint} does not "
        "exist: create it (make dynamodb-table) or fix STORE_URL"
    )
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [problem] * len(answers)


async def test_readiness_says_whether_the_store_answers(moto_endpoint: str) -> None:
    async with serving(await fresh_dynamodb_table(moto_endpoint), ROOMY) as api:
        ready = await api.client.get("/health", params={"ready": "1"})
        assert (ready.status_code, ready.json()) == (200, {"status": "ok"})
        api.transport.inject("unavailable", "GetItem")
        started = time.monotonic()
        assert_unavailable(await api.client.get("/health", params={"ready": "1"}))
        assert time.monotonic() - started < 2  # its own budget of 1 s, not the 5 s of others
        assert (await api.client.get("/health")).status_code == 200  # liveness never asks
        api.transport.heal()
        assert (await api.client.get("/health", params={"ready": "true"})).status_code == 200


@pytest.mark.parametrize("fault", MISCONFIGURED_ANSWERS)
async def test_a_misconfigured_store_is_503_at_once_and_logged(
    moto_endpoint: str, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(await fresh_dynamodb_table(moto_endpoint), ROOMY) as api:
        api.transport.inject(fault, *EVERY_CALL)
        with caplog.at_level(logging.ERROR, logger="app.store.dynamodb"):
            for method, url in (("GET", "/orders"), ("POST", "/orders"), ("GET", READY)):
                response = await api.client.request(method, url, json=order_body())
                assert (response.status_code, response.headers["retry-after"]) == (503, "30")
                assert response.json() == UNAVAILABLE
        assert sum(api.transport.injected.values()) == 3  # not retried
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 3
    assert all(e.startswith("DynamoDB store unusable: ") for e in errors)
    assert all(api.store.config.table in e for e in errors)


@pytest.mark.parametrize("fault", MORE_TRANSIENT_ANSWERS)
async def test_every_other_transient_error_is_retried_then_503(api: Api, fault: str) -> None:
    api.transport.inject(fault, *EVERY_CALL, times=2)
    created = await api.create()  # retried transparently
    api.transport.inject(fault, *EVERY_CALL)
    for method, url in (("GET", f"/orders/{created['id']}"), ("POST", "/orders"), ("GET", READY)):
        assert_unavailable(await timed(api.client, method, url, json=order_body()))
    assert sum(api.transport.injected.values()) > 3  # retried
    api.transport.heal()
    assert await api.snapshot() == {"orders": [created]}


@pytest.mark.parametrize("fault", REFUSED_ANSWERS)
async def test_a_request_the_store_refuses_is_a_json_error_and_one_log_line(
    moto_endpoint: str, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    """No retry can help and nothing is wrong with the deployment: 500 with a JSON body, one
    error line naming the call and the error, no traceback; readiness is 503."""
    async with serving(await fresh_dynamodb_table(moto_endpoint), ROOMY) as api:
        oid = (await api.create())["id"]
        before = await api.snapshot()
        api.transport.inject(fault, *EVERY_CALL)
        attempts = [
            ("GET", "/orders", None, None),
            ("GET", f"/orders/{oid}", None, None),
            ("POST", "/orders", order_body("new"), None),
            ("POST", "/orders", order_body("keyed"), {"Idempotency-Key": "refused-1"}),
            ("PUT", f"/orders/{oid}", order_body("replaced"), None),
            ("POST", f"/orders/{oid}/pay", None, None),
            ("POST", f"/orders/{oid}/cancel", None, None),
            ("DELETE", f"/orders/{oid}", None, None),
        ]
        with caplog.at_level(logging.INFO, logger="app"):
            for method, url, body, headers in attempts:
                response = await api.client.request(method, url, json=body, headers=headers)
                assert (response.status_code, response.json()) == (500, REFUSED), (method, url)
                assert "retry-after" not in response.headers
            ready = await api.client.get(READY)
            assert (ready.status_code, ready.headers["retry-after"]) == (503, "30")
        assert sum(api.transport.injected.values()) == len(attempts) + 1  # never retried
        api.transport.heal()
        assert await api.snapshot() == before
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == len(attempts) + 1
    assert all(r.exc_info is None for r in caplog.records)  # no traceback anywhere
    assert all(r.getMessage().startswith("DynamoDB store refused ") for r in errors)
    error_type = REFUSED_ANSWERS[fault][1] or f"HTTP {REFUSED_ANSWERS[fault][0]}"
    assert all(error_type in r.getMessage() for r in errors)


async def test_a_transaction_cancelled_for_an_invalid_item_is_refused_and_frees_the_key(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    key = {"Idempotency-Key": "cancelled-1"}
    api.transport.inject("cancelled-validation", "TransactWriteItems")
    with caplog.at_level(logging.ERROR, logger="app"):
        response = await api.client.post("/orders", json=order_body("x"), headers=key)
    assert (response.status_code, response.json()) == (500, REFUSED)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "ValidationError" in errors[0]
    api.transport.heal()
    again = await api.client.post("/orders", json=order_body("x"), headers=key)
    assert (again.status_code, again.headers.get("idempotent-replayed")) == (201, None)


async def test_a_transaction_cancelled_for_an_item_collection_is_a_misconfiguration(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    api.transport.inject("cancelled-item-collection", "TransactWriteItems")
    with caplog.at_level(logging.ERROR, logger="app"):
        response = await api.client.post(
            "/orders", json=order_body("x"), headers={"Idempotency-Key": "collection-1"}
        )
    assert (response.status_code, response.headers["retry-after"]) == (503, "30")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].startswith("DynamoDB store unusable: ")
    assert "local secondary index" in errors[0]


async def retry_as_told(api: Api, first: httpx.Response, key: dict[str, str]) -> httpx.Response:
    """What a client that obeys Retry-After sends next, and gets."""
    await asyncio.sleep(int(first.headers["retry-after"]))
    return await api.client.post("/orders", json=order_body("told"), headers=key)


async def test_a_key_whose_write_and_release_were_throttled_is_free_after_retry_after(
    moto_endpoint: str,
) -> None:
    """The claim succeeds, then every TransactWriteItems and the releasing DeleteItem are
    throttled: the 503 comes once the whole budget is spent, and by then the claim has lapsed
    (to the millisecond: no rounding to whole seconds), so the retry is a fresh attempt."""
    policy = RetryPolicy(budget=2.0)  # the default backoff: 50 ms doubling, capped at 1 s
    key = {"Idempotency-Key": "throttled-1"}
    async with serving(await fresh_dynamodb_table(moto_endpoint), policy) as api:
        api.transport.inject("throttling", "TransactWriteItems", "DeleteItem")
        started = time.monotonic()
        first = await api.client.post("/orders", json=order_body("told"), headers=key)
        elapsed = time.monotonic() - started
        assert_unavailable(first)
        assert policy.budget - 0.2 <= elapsed < policy.budget + 1  # the whole budget, no more
        assert api.transport.injected["TransactWriteItems"] > 6
        api.transport.heal()
        retry = await retry_as_told(api, first, key)
        assert (retry.status_code, retry.headers.get("idempotent-replayed")) == (201, None)
        assert await api.snapshot() == {"orders": [retry.json()]}


@pytest.mark.parametrize("fault", ["connection-reset", "read-timeout", "internal-error"])
async def test_a_claim_whose_answer_was_lost_is_recognised_as_ours(
    moto_endpoint: str, fault: str
) -> None:
    """The claim's PutItem is applied but its answer is lost: the retried claim finds the
    record it wrote itself and goes on, instead of answering 409 to the only request. (A roomy
    budget: time-outs are not the point, and under load 0.5 s ran out before the retry.)"""
    async with serving(await fresh_dynamodb_table(moto_endpoint), ROOMY) as api:
        await claim_after_a_lost_answer(api, fault)


async def claim_after_a_lost_answer(api: Api, fault: str) -> None:
    key = {"Idempotency-Key": "lost-claim-1"}
    api.transport.inject(fault, "PutItem", times=1, after_forwarding=True)
    created = await api.client.post("/orders", json=order_body("once"), headers=key)
    assert api.transport.injected["PutItem"] == 1
    assert (created.status_code, created.headers.get("idempotent-replayed")) == (201, None)
    replay = await api.client.post("/orders", json=order_body("once"), headers=key)
    assert (replay.status_code, replay.headers["idempotent-replayed"]) == (201, "true")
    assert replay.json() == created.json()
    assert await api.snapshot() == {"orders": [created.json()]}
