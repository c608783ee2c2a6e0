"""Schema-driven fuzzing: schemathesis derives requests from the OpenAPI document, checks replies.

Every operation gets positive and negative data (fuzzing and coverage phases); a stateful run
follows the document's links (create -> get / replace / pay / cancel / delete), with test users
and again with IDENTITY_MODE=jwt and real bearer tokens. Every default check applies: no server
errors, status codes, content types, headers and bodies as documented, negative data rejected,
valid data accepted, no use after free, 405 with ``Allow``, authentication enforced.

``FUZZ_PROFILE`` picks the Hypothesis profile: ``fast`` (default, in ``make test``) or ``deep``
(``make fuzz``). Runs cover every store the conftest provides and every entry of ``TRANSPORTS``.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case as GenericCase
from schemathesis import Response
from schemathesis.specs.openapi.schemas import OpenApiSchema

from app.aws_lambda.factory import build_handler
from app.config import Settings
from app.main import create_app
from devtools import dev_issuer
from devtools.gateway.authorizer import Authorizer
from devtools.gateway.server import GatewayConfig, create_gateway
from tests.conftest import fresh_dynamodb_table
from tests.oidc import AUDIENCE, LocalIssuer, serve_issuer
from tests.support import TEST_USER_HEADER, HeaderIdentity

# One app and store serve every example of an operation: state carries over, on purpose.
_COMMON: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("fuzz-fast", max_examples=6, derandomize=True, **_COMMON)
settings.register_profile("fuzz-deep", max_examples=500, **_COMMON)
PROFILE = settings.get_profile(f"fuzz-{os.environ.get('FUZZ_PROFILE', 'fast')}")

CONFIG = schemathesis.Config.from_path(Path(__file__).parents[2] / "schemathesis.toml")
# The document alone (no store is opened); requests go to the per-test app below.
DOCUMENT = create_app(Settings(store_url="sqlite:///:memory:"), identity=HeaderIdentity()).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)

Case = GenericCase[Any]
IDEMPOTENCY_KEY = "Idempotency-Key"
CallKwargs = dict[str, Any]


@dataclass(frozen=True)
class Transport:
    """How requests reach the app under test: the ASGI app ``case.call`` drives, and the
    request headers that make a request act as a given user."""

    app: Any
    as_user: Callable[[str], dict[str, str]]


def _asgi(settings: Settings, _: Path) -> Transport:
    app = create_app(settings, identity=HeaderIdentity())
    return Transport(app, lambda user: {TEST_USER_HEADER: user})


def _lambda(settings: Settings, folder: Path) -> Transport:
    """The Lambda handler behind the local API Gateway emulator (its JWT authorizer trusts a
    development issuer made for this test): events, claims and proxy responses as on AWS."""
    keys = folder / "issuer"
    authorizer = Authorizer(
        issuer=dev_issuer.DEV_ISSUER,
        audiences=frozenset({dev_issuer.DEV_AUDIENCE}),
        jwks_url=dev_issuer.env(keys)["JWT_JWKS_URL"],
    )
    gateway = settings.model_copy(update={"identity_mode": "gateway"})
    app = create_gateway(
        GatewayConfig(handler_factory=partial(build_handler, gateway), authorizer=authorizer)
    )
    return Transport(
        app, lambda user: {"Authorization": f"Bearer {dev_issuer.mint(user, folder=keys)}"}
    )


# One entry per transport, named as the API suite's (tests/conftest.py), so the same covering
# cells apply: `make test` fuzzes sqlite-asgi and dynamodb-lambda-v2, FULL_MATRIX=1 all four.
TRANSPORTS: dict[str, Callable[[Settings, Path], Transport]] = {
    "asgi": _asgi,
    "lambda-v2": _lambda,
}

# (operation, phase, generation mode) -> examples sent; printed at the end (``make fuzz``).
TALLY: Counter[tuple[str, str, str]] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_tally() -> Iterator[None]:
    yield
    if TALLY:
        print(f"\nschemathesis examples ({os.environ.get('FUZZ_PROFILE', 'fast')} profile):")
        for (label, phase, mode), count in sorted(TALLY.items()):
            print(f"  {label:<36} {phase:<9} {mode:<9} {count:>6}")
        print(f"  {'total':<56} {sum(TALLY.values()):>6}")


def _tally(case: Case, phase: str | None = None) -> None:
    meta = case.meta
    if meta is not None:
        mode = meta.generation.mode.value
        TALLY[(case.operation.label, phase or meta.phase.name.value, mode)] += 1


@pytest.fixture(params=["sqlite", "dynamodb"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The conftest's stores, set up synchronously: schemathesis drives the app from sync code."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'orders.db'}"
        return
    from app.store.dynamodb.admin import delete_table
    from app.store.dynamodb.config import DynamoDBConfig

    url = asyncio.run(fresh_dynamodb_table(request.getfixturevalue("moto_endpoint")))
    yield url
    asyncio.run(delete_table(DynamoDBConfig.from_url(url)))


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Transport:
    """A fresh app on the test's store, reached one way; schemathesis runs its lifespan."""
    return TRANSPORTS[request.param](settings, tmp_path)


@schema.parametrize()
@PROFILE
def test_every_operation_conforms(case: Case, transport: Transport) -> None:
    _tally(case)
    if case.meta is not None and case.meta.generation.mode.value == "positive":
        _unique_idempotency_key(case.headers)
    case.call_and_validate(app=transport.app, headers=transport.as_user("fuzz"))


def _unique_idempotency_key(headers: MutableMapping[str, Any] | None) -> None:
    """Generated requests share a handful of key values; a key reused with another body is a
    correct 422 (tests/api/test_idempotency.py), so valid requests each get a key of their own."""
    if headers and IDEMPOTENCY_KEY in headers:
        headers[IDEMPOTENCY_KEY] = f"fuzz-{uuid4()}"


def test_stateful_links(transport: Transport) -> None:
    def as_new_user() -> dict[str, str]:
        return transport.as_user(f"fuzz-{uuid4()}")

    _run_stateful(schema, {"app": transport.app}, as_new_user)


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with serve_issuer() as running:
        yield running


def test_stateful_links_with_bearer_tokens(store_url: str, issuer: LocalIssuer) -> None:
    """IDENTITY_MODE=jwt (in-process ASGI: the mode of a server reached without a gateway):
    its document demands a bearer token, and every operation enforces it."""
    jwt_settings = Settings(
        store_url=store_url,
        greet_delay=0,
        identity_mode="jwt",
        jwt_issuer=issuer.url,
        jwt_audience=AUDIENCE,
    )
    app = create_app(jwt_settings)
    # Bound to the app: the auth check's own probes (without credentials) must reach it too.
    jwt_schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    current = {"token": ""}

    # Credentials through schemathesis's auth seam, so it knows which requests carry them
    # (negative cases that drop or garble the Authorization header keep it dropped or garbled).
    @jwt_schema.auth(refresh_interval=None)
    class Bearer:
        def get(self, case: Case, context: schemathesis.AuthContext) -> str:
            return current["token"]

        def set(self, case: Case, data: str, context: schemathesis.AuthContext) -> None:
            case.headers["Authorization"] = f"Bearer {data}"

    def as_new_user() -> dict[str, str]:
        current["token"] = issuer.token(sub=f"fuzz-{uuid4()}")
        return {}

    _run_stateful(jwt_schema, {"app": app}, as_new_user)


def _run_stateful(
    api: OpenApiSchema, call_kwargs: CallKwargs, new_user: Callable[[], dict[str, str]]
) -> None:
    """Run the state machine; ``new_user`` starts a scenario and names extra request headers."""
    statuses: Counter[tuple[str, int]] = Counter()

    class Orders(api.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Each scenario is a new user: it starts from no orders, so a replay sees what the
            # first run saw (Hypothesis shrinks by replaying).
            self.headers = new_user()

        def get_call_kwargs(self, case: Case) -> CallKwargs:
            _unique_idempotency_key(case.headers)
            return {**call_kwargs, "headers": self.headers}

        def after_call(self, response: Response, case: Case) -> None:
            super().after_call(response, case)
            _tally(case, "stateful")
            statuses[(case.operation.label, response.status_code)] += 1

    Orders.run(settings=PROFILE)
    # The links were followed into real orders: every linked operation succeeded at least once.
    for label, success in [
        ("GET /orders/{order_id}", 200),
        ("PUT /orders/{order_id}", 200),
        ("POST /orders/{order_id}/pay", 200),
        ("POST /orders/{order_id}/cancel", 200),
        ("DELETE /orders/{order_id}", 204),
    ]:
        assert statuses[(label, success)] > 0, (label, sorted(statuses.items()))
