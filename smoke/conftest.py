"""The instance under test (BASE_URL, optional TOKEN) and orders created and cleaned up here.

Nothing from app/ or tests/ is imported: the suite only speaks HTTP, so it runs against a local
uvicorn, the gateway emulator or the deployed API alike.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

TIMEOUT = 40.0  # above API Gateway's 30 s integration timeout (GET /hi may be slow on purpose)
ORDER = {"order": [{"product": "cappuccino", "size": "medium", "quantity": 2}]}
# A deployed stage throttles its public routes tightly (a few requests per second, one at a time
# in dev: infra/anonymous.py); a 429 is waited out this long before it counts.
THROTTLE_PATIENCE = 30.0


class WaitOutThrottling(httpx.HTTPTransport):
    """Sends a request again while API Gateway answers 429, for at most THROTTLE_PATIENCE s."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + THROTTLE_PATIENCE
        while True:
            response = super().handle_request(request)
            if response.status_code != 429 or time.monotonic() > deadline:
                return response
            response.close()
            time.sleep(2.0)


def pytest_configure(config: pytest.Config) -> None:
    """One line, before any test runs, for an instance the suite cannot use: no BASE_URL, one
    that does not answer, or one that wants a TOKEN that is not set."""
    if not os.environ.get("BASE_URL"):
        raise pytest.UsageError("set BASE_URL=<url of a running instance> (and TOKEN=<jwt>)")
    problem = _unusable(base_url(), token())
    if problem:
        raise pytest.UsageError(problem)


def _unusable(base: str, bearer: str | None) -> str | None:
    """Why the instance at ``base`` cannot be tested as configured (one ``GET orders``)."""
    headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
    try:
        response = httpx.get(
            urljoin(base, "orders"), headers=headers, timeout=httpx.Timeout(TIMEOUT, connect=10)
        )
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        return f"BASE_URL={base} does not answer ({reason}): start the instance or fix BASE_URL"
    if response.status_code == 401:
        if bearer:
            return (
                f"BASE_URL={base} refused TOKEN (GET /orders answered 401: expired, or from "
                "another issuer): set a fresh TOKEN=<jwt>"
            )
        return (
            f"BASE_URL={base} wants a bearer token (GET /orders answered 401): set "
            "TOKEN=<jwt> (for make gateway: TOKEN=$(make token))"
        )
    return None


def base_url() -> str:
    return os.environ["BASE_URL"].rstrip("/") + "/"


def token() -> str | None:
    return os.environ.get("TOKEN") or None


def url(path: str) -> str:
    """``path`` (root-relative, e.g. a Location) under BASE_URL, which may carry a stage."""
    return urljoin(base_url(), path.lstrip("/"))


@pytest.fixture(scope="session")
def anonymous() -> Iterator[httpx.Client]:
    """A client without credentials."""
    with httpx.Client(
        base_url=base_url(), timeout=TIMEOUT, transport=WaitOutThrottling()
    ) as client:
        yield client


@pytest.fixture(scope="session")
def client() -> Iterator[httpx.Client]:
    """A client with ``Authorization: Bearer $TOKEN`` when TOKEN is set."""
    headers = {"authorization": f"Bearer {token()}"} if token() else {}
    with httpx.Client(
        base_url=base_url(), headers=headers, timeout=TIMEOUT, transport=WaitOutThrottling()
    ) as client:
        yield client


class Orders:
    """Creates orders through the API and remembers each one, for cleanup."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.ids: list[str] = []

    def create(self, body: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        response = self.client.post("orders", json=body or ORDER, **kwargs)
        if response.status_code == 201 and response.json()["id"] not in self.ids:
            self.ids.append(response.json()["id"])
        return response

    def new(self) -> dict[str, Any]:
        response = self.create()
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        return order

    def cleanup(self) -> list[str]:
        """Delete every order created here; the ids that could not be deleted."""
        left = []
        for order_id in self.ids:
            try:
                status = self.client.delete(f"orders/{order_id}").status_code
            except httpx.HTTPError:
                status = 0
            if status not in (204, 404):
                left.append(order_id)
        return left


@pytest.fixture
def orders(client: httpx.Client) -> Iterator[Orders]:
    """Orders this test creates; all deleted afterwards, even when the test fails."""
    tracker = Orders(client)
    yield tracker
    left = tracker.cleanup()
    assert not left, f"could not delete orders created by this test: {left}"
