"""A typed client generated from the committed OpenAPI document works against a served instance.

openapi-python-client (docs/clients.md) generates a Python package from docs/openapi.json,
refusing any warning; the test imports it and drives ``python -m app.server`` (IDENTITY_MODE=jwt
with the development issuer: the document demands bearer tokens, as the deployed API does)
through the contract's operations by their generated names: create with an Idempotency-Key and
its replay, get, pay with If-Match, a stale If-Match answered 412 as the typed error model, a
list paged by the cursor of its ``Link`` header, delete. Behind the local API Gateway, the
authorizer's own 401 parses as the typed ``GatewayErrorSchema``.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import httpx
import pytest

from app.aws_lambda.factory import build_handler
from app.config import Settings
from devtools import dev_issuer
from devtools.gateway.server import GatewayConfig, create_gateway
from tests.gateway_support import dev_authorizer, serving
from tests.support import app_server

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.json"
# The contract's operation ids as openapi-python-client names their modules (api/<tag>/<id>.py).
OPERATIONS = {
    "meta": ("get_greeting", "get_health"),
    "orders": (
        "get_orders",
        "create_order",
        "get_order",
        "update_order",
        "delete_order",
        "pay_order",
        "cancel_order",
    ),
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``python -m app.server`` trusting a development issuer: its base URL and the issuer's
    key folder (``dev_issuer.mint(sub, folder=...)`` makes tokens)."""
    keys = tmp_path / "issuer"
    dev_issuer.signing_key(keys)  # writes the JWKS file the server reads
    env = {
        **os.environ,
        **dev_issuer.env(keys),
        "STORE_URL": f"sqlite:///{tmp_path / 'orders.db'}",
        "GREET_DELAY": "0",
    }
    with app_server(env) as base_url:
        yield base_url, keys


def generate(document: Path, folder: Path, package: str) -> None:
    """Generate the client package ``folder/package`` from ``document``; any warning fails."""
    # The generator formats its output with ruff, found on PATH: this environment's own.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    done = subprocess.run(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(folder / package),
            "--meta",
            "none",
            "--fail-on-warning",
        ],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    printed = done.stdout + done.stderr
    assert done.returncode == 0, printed
    assert "warning" not in printed.lower(), printed


def operations(folder: Path, package: str) -> dict[str, ModuleType]:
    """The generated module of each contract operation, by name (fails on any one missing)."""
    sys.path.insert(0, str(folder))
    try:
        return {
            name: importlib.import_module(f"{package}.api.{tag}.{name}")
            for tag, names in OPERATIONS.items()
            for name in names
        }
    finally:
        sys.path.remove(str(folder))


def next_cursor(response: Any) -> str | None:
    """The ``cursor`` of the ``Link: <…>; rel="next"`` header, if there is a next page."""
    link: str | None = response.headers.get("link")
    if link is None:
        return None
    url, _, relation = link.partition(";")
    assert relation.strip() == 'rel="next"', link
    (cursor,) = parse_qs(urlsplit(url.strip().strip("<>")).query)["cursor"]
    return cursor


def drive(package: str, api: dict[str, ModuleType], base_url: str, token: str) -> None:
    """The contract's round trip through the generated client (its connections closed after)."""
    client_module = importlib.import_module(f"{package}.client")
    authenticated = client_module.AuthenticatedClient
    with (
        authenticated(base_url=base_url, token=token, raise_on_unexpected_status=True) as client,
        authenticated(base_url=base_url, token="not-a-token") as stranger,
    ):
        round_trip(package, api, client, stranger)


def round_trip(package: str, api: dict[str, ModuleType], client: Any, stranger: Any) -> None:
    models = importlib.import_module(f"{package}.models")

    assert api["get_greeting"].sync(client=client) == "Hello, async FastAPI!"
    assert api["get_health"].sync(client=client).status == "ok"

    def body(product: str) -> Any:
        item = models.OrderItemSchema(product=product, size=models.Size.BIG, quantity=2)
        return models.CreateOrderSchema(order=[item])

    key = f"client-{uuid4()}"
    created = api["create_order"].sync_detailed(
        client=client, body=body("latte"), idempotency_key=key
    )
    assert created.status_code == 201
    order = created.parsed
    assert isinstance(order, models.GetOrderSchema)
    assert order.status is models.Status.CREATED
    assert (order.order[0].product, order.order[0].quantity) == ("latte", 2)
    assert created.headers["location"].endswith(f"/orders/{order.id}")
    assert "idempotent-replayed" not in created.headers

    replayed = api["create_order"].sync_detailed(
        client=client, body=body("latte"), idempotency_key=key
    )
    assert replayed.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.parsed.id == order.id

    got = api["get_order"].sync_detailed(order.id, client=client)
    assert got.status_code == 200
    assert got.parsed.to_dict() == order.to_dict()
    first_tag = got.headers["etag"]

    paid = api["pay_order"].sync_detailed(order.id, client=client, if_match=first_tag)
    assert paid.status_code == 200
    assert paid.parsed.status is models.Status.PAID
    current_tag = paid.headers["etag"]
    assert current_tag != first_tag

    stale = api["cancel_order"].sync_detailed(order.id, client=client, if_match=first_tag)
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.ErrorSchema)
    assert isinstance(stale.parsed.detail, str)
    assert "If-Match" in stale.parsed.detail
    assert api["get_order"].sync(order.id, client=client).status is models.Status.PAID

    second = api["create_order"].sync(client=client, body=body("mocha"))
    assert isinstance(second, models.GetOrderSchema)
    pages: list[list[Any]] = []
    cursor: Any = importlib.import_module(f"{package}.types").UNSET  # the first page
    while True:
        page = api["get_orders"].sync_detailed(client=client, limit=1, cursor=cursor)
        assert page.status_code == 200
        assert isinstance(page.parsed, models.GetOrdersSchema)
        pages.append([listed.id for listed in page.parsed.orders])
        cursor = next_cursor(page)
        if cursor is None:
            break
        assert len(pages) < 5, pages
    assert pages == [[second.id], [order.id]]  # newest first, one a page

    deleted = api["delete_order"].sync_detailed(order.id, client=client, if_match=current_tag)
    assert deleted.status_code == 204
    gone = api["get_order"].sync_detailed(order.id, client=client)
    assert gone.status_code == 404
    assert isinstance(gone.parsed, models.ErrorSchema)

    refused = api["get_orders"].sync_detailed(client=stranger)
    assert refused.status_code == 401
    assert isinstance(refused.parsed, models.ErrorSchema)


@dataclass(frozen=True)
class Generated:
    """A client package generated from the committed document, and its operations' modules."""

    package: str
    api: dict[str, ModuleType]

    def module(self, name: str) -> Any:
        return importlib.import_module(f"{self.package}.{name}")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    folder = tmp_path_factory.mktemp("generated")
    package = f"orders_client_{uuid4().hex[:8]}"
    generate(DOCUMENT, folder, package)
    return Generated(package, operations(folder, package))


def test_a_generated_client_drives_the_served_api(
    server: tuple[str, Path], generated: Generated
) -> None:
    base_url, keys = server
    # The document the generator reads is the one the instance serves.
    assert httpx.get(f"{base_url}/openapi.json").json() == json.loads(DOCUMENT.read_text())
    token = dev_issuer.mint("client-user", folder=keys)
    drive(generated.package, generated.api, base_url, token)


def test_api_gateways_own_answers_parse_as_the_typed_gateway_error(
    generated: Generated, tmp_path: Path
) -> None:
    """Behind the local API Gateway (its JWT authorizer, then the Lambda handler), a request
    without a valid token never reaches the function: API Gateway's ``{"message": ...}``."""
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'orders.db'}", greet_delay=0, identity_mode="gateway"
    )
    config = GatewayConfig(
        handler_factory=partial(build_handler, settings),
        authorizer=dev_authorizer(tmp_path / "issuer"),
    )
    models, authenticated = (
        generated.module("models"),
        generated.module("client").AuthenticatedClient,
    )
    get_orders = generated.api["get_orders"]
    token = dev_issuer.mint("client-user", folder=tmp_path / "issuer")
    with (
        serving(create_gateway(config)) as base_url,
        authenticated(base_url=base_url, token="not-a-token") as stranger,
        authenticated(base_url=base_url, token=token) as client,
    ):
        refused = get_orders.sync_detailed(client=stranger)
        assert refused.status_code == 401
        assert isinstance(refused.parsed, models.GatewayErrorSchema)
        assert refused.parsed.message == "Unauthorized"
        listed = get_orders.sync_detailed(client=client)
        assert listed.status_code == 200
        assert isinstance(listed.parsed, models.GetOrdersSchema)
