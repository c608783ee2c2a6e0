"""Schema-driven fuzzing: schemathesis derives requests from the OpenAPI document, checks replies.

Every operation gets positive and negative data (fuzzing and coverage phases); a stateful run
follows the document's links (create -> get / replace / pay / cancel / delete). Every default
check applies: no server errors, status codes, content types, headers and bodies as documented,
negative data rejected, valid data accepted, no use after free, 405 with ``Allow``.

``FUZZ_PROFILE`` picks the Hypothesis profile: ``fast`` (default, in ``make test``) or ``deep``
(``make fuzz``). Runs cover every store the conftest provides and every entry of ``TRANSPORTS``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case as GenericCase
from schemathesis import Response

from app.config import Settings
from app.main import create_app
from tests.support import HeaderIdentity

# One app and store serve every example of an operation: state carries over, on purpose.
_COMMON: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("fuzz-fast", max_examples=10, derandomize=True, **_COMMON)
settings.register_profile("fuzz-deep", max_examples=500, **_COMMON)
PROFILE = settings.get_profile(f"fuzz-{os.environ.get('FUZZ_PROFILE', 'fast')}")

CONFIG = schemathesis.Config.from_path(Path(__file__).parents[1] / "schemathesis.toml")
# The document alone (no store is opened); requests go to the per-test app below.
DOCUMENT = create_app(Settings(store_url="sqlite:///:memory:"), identity=HeaderIdentity()).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)

Case = GenericCase[Any]
CallKwargs = dict[str, Any]
# How a request reaches the app: keyword arguments for ``case.call``. One entry per transport.
TRANSPORTS: dict[str, Callable[[FastAPI], CallKwargs]] = {
    "asgi": lambda app: {"app": app},
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


@pytest.fixture
def fuzz_app(settings: Settings) -> FastAPI:
    """A fresh app on the test's store; schemathesis runs its lifespan."""
    return create_app(settings, identity=HeaderIdentity())


@pytest.fixture(params=sorted(TRANSPORTS))
def call_kwargs(request: pytest.FixtureRequest, fuzz_app: FastAPI) -> CallKwargs:
    return TRANSPORTS[request.param](fuzz_app)


@schema.parametrize()
@PROFILE
def test_every_operation_conforms(case: Case, call_kwargs: CallKwargs) -> None:
    _tally(case)
    case.call_and_validate(**call_kwargs)


def test_stateful_links(call_kwargs: CallKwargs) -> None:
    statuses: Counter[tuple[str, int]] = Counter()

    class Orders(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> CallKwargs:
            return call_kwargs

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
