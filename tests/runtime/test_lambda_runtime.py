"""One execution environment: startup once, one loop, clients reused by every invocation."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.interpreter import find_python
from infra.uv import uv_executable
from tests.lambda_loop_check import INVOCATIONS, run_check

ROOT = Path(__file__).resolve().parents[2]


def assert_one_environment(report: dict[str, Any]) -> None:
    assert report["created"] == [201] * INVOCATIONS
    assert report["listed"] == INVOCATIONS
    # The store was opened once, at init, and every call ran on the one loop.
    assert report["store_opened"] == 1
    assert report["store_closed"] == 1  # only by close(), after the 100 invocations
    assert report["store_loops"] == 1
    # Clients opened at startup and in invocation 1 served invocations 2..N.
    assert report["app_startups"] == 1
    assert report["ping_statuses"] == [200] * INVOCATIONS
    assert report["eager_clients"] == report["lazy_clients"] == report["loops"] == 1


def test_100_invocations_share_one_startup_one_loop_and_the_same_clients(
    tmp_path: Path,
) -> None:
    assert_one_environment(run_check(tmp_path))


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_the_same_holds_on_newer_pythons(version: str, tmp_path: Path) -> None:
    """Builds a venv of the runtime dependencies for that Python (uv, cached) and reruns it."""
    python = find_python(version)  # fails, never skips, when the interpreter is missing
    uv = uv_executable()
    venv = tmp_path / "venv"
    requirements = tmp_path / "requirements.txt"
    export = [uv, "export", "--frozen", "--no-default-groups", "--no-hashes", "--quiet"]
    exported = subprocess.run(  # noqa: S603
        [*export, "--extra", "aws", "--extra", "local", "--no-emit-project"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    requirements.write_text(exported.stdout)
    subprocess.run([uv, "venv", "--quiet", "--python", python, str(venv)], check=True)  # noqa: S603
    venv_python = venv / "bin" / "python"
    subprocess.run(  # noqa: S603
        [uv, "pip", "install", "--quiet", "--python", str(venv_python), "-r", str(requirements)],
        check=True,
        timeout=300,
    )
    result = subprocess.run(  # noqa: S603
        [str(venv_python), "-W", "error", "-m", "tests.lambda_loop_check", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["python"].startswith(version)
    assert_one_environment(report)
