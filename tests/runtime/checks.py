"""What a runtime process must look like, whatever it served: Lambda's environment, the
asset from a read-only task root."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from devtools.lambda_runtime.function import FunctionConfig
from devtools.lambda_runtime.local_lambda import LocalLambda


@dataclass
class Run:
    """A started service and what it was started with."""

    init_type: str
    function: FunctionConfig
    service: LocalLambda
    task_root: Path


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if item)


def check_the_runtime_process_has_lambdas_environment(run: Run) -> None:
    environment = run.service.environment
    assert environment is not None
    assert environment.process is not None
    variables = _environ(environment.process.pid)
    function = run.function
    for name, value in function.variables.items():  # the template's, GREET_DELAY aside
        assert variables[name] == value
    assert variables["STORE_URL"].startswith("dynamodb://orders-")
    expected = {
        "_HANDLER": "app.aws_lambda.handler.handler",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_INITIALIZATION_TYPE": run.init_type,
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": str(run.task_root),
        "TZ": ":UTC",
    }
    assert {name: variables.get(name) for name in expected} == expected
    snap_start = run.init_type == "snap-start"
    # Under SnapStart no keys and no log group/stream names; container credentials instead.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert (name in variables) is not snap_start
    for name in ("AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME"):
        assert (name in variables) is not snap_start
    api = variables["AWS_LAMBDA_RUNTIME_API"]
    if snap_start:
        assert variables["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == (
            f"http://{api}/2021-04-23/credentials"
        )
        assert variables["AWS_CONTAINER_AUTHORIZATION_TOKEN"] == environment.token
    else:
        assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in variables
    # Nothing of this machine's environment leaks in (the test process has fake keys).
    assert not set(variables) & {"HOME", "VIRTUAL_ENV", "PYTHONPATH", "PYTEST_CURRENT_TEST"}


def check_the_runtime_runs_the_asset_from_a_read_only_task_root(run: Run) -> None:
    environment = run.service.environment
    assert environment is not None
    assert environment.process is not None
    pid = environment.process.pid
    task_root = run.task_root
    assert Path(os.readlink(f"/proc/{pid}/cwd")) == task_root
    for path in (task_root, task_root / "app" / "aws_lambda" / "handler.py"):
        assert path.stat().st_mode & 0o222 == 0
    mapped = {line.split()[-1] for line in Path(f"/proc/{pid}/maps").read_text().splitlines()}
    mapped = {path for path in mapped if path.startswith("/")}
    # The compiled dependencies come from the asset, nothing from the project's .venv.
    pydantic_core = [path for path in mapped if "_pydantic_core" in path]
    assert pydantic_core
    assert all(Path(path).is_relative_to(task_root) for path in pydantic_core)
    assert not [path for path in mapped if "/.venv/" in path]
