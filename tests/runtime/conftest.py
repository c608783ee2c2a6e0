"""The local Lambda runtime's tests: real runtime processes (awslambdaric, Python 3.13).

One built asset, one runtime environment and one synthesized template serve the whole
session (and later sessions: they are cached under var/lambda-runtime/ by input hash); each
test starts the services it needs and the fixtures stop them.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools import dev_issuer
from devtools.gateway import GatewayConfig, create_gateway
from devtools.gateway.lambda_service import LambdaServiceIntegration
from devtools.lambda_runtime import artifacts
from devtools.lambda_runtime.function import (
    FunctionConfig,
    Template,
    synthesized_template,
    table_ids,
)
from devtools.lambda_runtime.local_lambda import LocalLambda
from tests.conftest import fresh_dynamodb_table
from tests.gateway_support import dev_authorizer, serving

PROBE = Path(__file__).with_name("probe")
StartLambda = Callable[..., LocalLambda]


@dataclass(frozen=True)
class Runtime:
    task_root: Path
    python: Path


@pytest.fixture(scope="session")
def runtime() -> Runtime:
    """The read-only host-platform asset and the awslambdaric environment (cached)."""
    return Runtime(artifacts.task_root(), artifacts.runtime_python())


@pytest.fixture(scope="session")
def template() -> Template:
    """The dev stage's synthesized template (cached)."""
    return synthesized_template("dev")


@pytest.fixture(scope="session")
def probe_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only task root holding ``probe.py`` (handlers that misbehave on purpose)."""
    root = tmp_path_factory.mktemp("probe") / "task"
    root.mkdir()
    shutil.copy(PROBE / "probe.py", root / "probe.py")
    artifacts.read_only(root)
    return root


@pytest.fixture
def orders_function(template: Template, moto_endpoint: str) -> FunctionConfig:
    """The stack's function on a fresh table (moto), GREET_DELAY 0 instead of the stage's."""
    url = asyncio.run(fresh_dynamodb_table(moto_endpoint))
    table = url.split("://", 1)[1].split("?", 1)[0]
    function = FunctionConfig.from_template(template, names={table_ids(template)[0]: table})
    return function.replace(variables={**function.variables, "GREET_DELAY": "0"})


def probe_function(handler: str, *, timeout: float = 3, **variables: str) -> FunctionConfig:
    return FunctionConfig(
        name="probe",
        handler=f"probe.{handler}",
        runtime="python3.13",
        memory_mb=128,
        timeout=timeout,
        variables=variables,
        log_format="JSON",
        application_log_level="INFO",
        system_log_level="INFO",
        snap_start=False,
    )


@pytest.fixture
def start_lambda(runtime: Runtime, moto_endpoint: str) -> Iterator[StartLambda]:
    """``start_lambda(function, **options)``: a started ``LocalLambda`` (stopped after the
    test); ``options`` as LocalLambda's (``init_type``, ``task_root``...)."""
    started: list[LocalLambda] = []

    def start(function: FunctionConfig, **options: Any) -> LocalLambda:
        options.setdefault("task_root", runtime.task_root)
        service = LocalLambda(function, moto_endpoint, python=runtime.python, **options)
        started.append(service)
        service.start()
        return service

    yield start
    for service in started:
        service.stop()


@contextmanager
def gateway(service: LocalLambda, folder: Path) -> Iterator[tuple[str, str]]:
    """The API Gateway emulator in front of ``service``: (base URL, a bearer token)."""
    authorizer = dev_authorizer(folder)
    token = dev_issuer.mint("smoke-user", folder=folder)
    integration = LambdaServiceIntegration(service, managed=False)
    config = GatewayConfig(integration=integration, authorizer=authorizer)
    with serving(create_gateway(config)) as base_url:
        yield base_url, token
