"""The Makefile's own output: `make help` and what `make smoke` echoes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Set by an outer make (`make test`) or the shell; each would change what these makes print.
INHERITED = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "HOST", "PORT", "GATEWAY_PORT", "MOTO_PORT",
             "BASE_URL", "TOKEN"}  # fmt: skip

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def make(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in INHERITED}
    done = subprocess.run(  # noqa: S603
        ["make", "--no-print-directory", "-C", str(ROOT), *args],  # noqa: S607
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout + done.stderr


def test_smoke_never_echoes_the_bearer_token() -> None:
    printed = make("-n", "smoke", "BASE_URL=http://127.0.0.1:3000", "TOKEN=secret.jwt.value")
    assert "pytest -p no:cacheprovider smoke" in printed
    assert "secret.jwt.value" not in printed


def test_help_shows_the_values_of_the_variables_it_names() -> None:
    printed = make("help")
    assert "http://127.0.0.1:8000" in printed  # make run
    assert "http://127.0.0.1:3000" in printed  # make gateway
    assert "$(" not in printed
    assert "http://127.0.0.1:9000" in make("help", "PORT=9000")
