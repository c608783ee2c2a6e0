"""No response over Lambda's 6 MB: pages of large orders are bounded in bytes, and still walk."""

from __future__ import annotations

import json

import httpx
import pytest

from app.config import DEFAULT_MAX_BODY_BYTES, Settings
from app.http.routes.orders import MAX_PAGE_BYTES
from tests.test_pagination import LINK

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # 100 orders of 64 KiB through every cell


@pytest.fixture
def settings(store_url: str) -> Settings:
    """moto serves 1 MB Queries slowly on a loaded machine: more time for each DynamoDB call."""
    if store_url.startswith("dynamodb://"):
        store_url += "&read_timeout=10&retry_budget=25"
    return Settings(store_url=store_url, greet_delay=0)


# What a synchronous Lambda invocation may answer (the proxy response as JSON), and the largest
# request body the API accepts by default.
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024
MAX_BODY = DEFAULT_MAX_BODY_BYTES


def largest_order_body() -> bytes:
    """The largest order body the API accepts: items of 200 three-byte characters."""
    item = {"product": "€" * 200, "size": "small", "quantity": 1}
    count = 1
    while len(_compact({"order": [item] * (count + 1)})) <= MAX_BODY and count < 100:
        count += 1
    return _compact({"order": [item] * count})


def _compact(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def lambda_payload_size(response: httpx.Response) -> int:
    """The bytes of the proxy response Lambda would carry for ``response``, marshalled with
    non-ASCII escaped (the larger of the runtimes' two ways)."""
    proxy = {
        "statusCode": response.status_code,
        "headers": dict(response.headers),
        "body": response.text,
        "isBase64Encoded": False,
    }
    return len(json.dumps(proxy).encode())


async def test_pages_of_large_orders_stay_under_lambdas_response_limit(
    client: httpx.AsyncClient,
) -> None:
    """100 orders of ~64 KiB are 6.4 MB of JSON: more than one Lambda response may carry."""
    body = largest_order_body()
    assert len(body) > 60 * 1024
    ids = []
    for _ in range(100):
        created = await client.post(
            "/orders", content=body, headers={"content-type": "application/json"}
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    seen: list[str] = []
    next_url: str | None = "/orders?limit=100"
    sizes = []
    while next_url is not None:
        response = await client.get(next_url)
        assert response.status_code == 200
        assert len(response.content) <= MAX_PAGE_BYTES
        sizes.append(lambda_payload_size(response))
        assert sizes[-1] < LAMBDA_RESPONSE_LIMIT
        seen += [o["id"] for o in response.json()["orders"]]
        link = response.headers.get("link")
        next_url = None if link is None else LINK.match(link)["url"]  # type: ignore[index]
        assert len(sizes) <= 100
    assert seen == ids[::-1]
