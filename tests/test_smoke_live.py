"""The smoke suite (smoke/) over real HTTP against both local servers, as subprocesses.

Each server is started on a free port with a fresh SQLite file and torn down afterwards:
uvicorn with the development identity, and the gateway emulator in front of the Lambda
handler with a development issuer of its own (a token minted for the run).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from devtools import dev_issuer
from devtools.ports import free_port

ROOT = Path(__file__).parents[1]
# Settings a developer's shell may hold that would change what the servers do.
APP_VARIABLES = ("STORE_URL", "IDENTITY_MODE", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_JWKS_URL")


def _environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in APP_VARIABLES}
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    return {**env, "GREET_DELAY": "0", **settings}


@contextmanager
def _server(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """Run ``command`` until it answers GET /health on ``port``; yield its URL; stop it."""
    base_url = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        # The command is this interpreter with fixed arguments.
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)  # noqa: S603
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"server exited:\n{log.read_text()}")
                try:
                    if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"server did not start:\n{log.read_text()}")
                time.sleep(0.1)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _run_smoke(base_url: str, token: str | None) -> str:
    env = {**os.environ, "BASE_URL": base_url, "TOKEN": token or ""}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", "smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'orders.db'}"


def test_smoke_suite_against_local_uvicorn(tmp_path: Path, sqlite_url: str) -> None:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    env = _environment(STORE_URL=sqlite_url, IDENTITY_MODE="dev")
    with _server(command, env, port, tmp_path / "uvicorn.log") as base_url:
        output = _run_smoke(base_url, token=None)
    assert " passed" in output
    assert "failed" not in output
    assert output.count("TOKEN not set") >= 1  # only the authentication checks are skipped


def test_smoke_suite_against_the_gateway_emulator(tmp_path: Path, sqlite_url: str) -> None:
    folder = tmp_path / "dev-issuer"
    token = dev_issuer.mint("smoke-user", folder=folder)
    issuer = {k: v for k, v in dev_issuer.env(folder).items() if k != "IDENTITY_MODE"}
    port = free_port()
    command = [sys.executable, "-m", "devtools.gateway", "--in-process", "--port", str(port)]
    env = _environment(STORE_URL=sqlite_url, **issuer)
    with _server(command, env, port, tmp_path / "gateway.log") as base_url:
        output = _run_smoke(base_url, token=token)
        # The suite left nothing behind: the user's listing is empty again.
        remaining = httpx.get(f"{base_url}/orders", headers={"authorization": f"Bearer {token}"})
        assert remaining.json() == {"orders": []}
    assert " passed" in output
    assert "skipped" not in output  # with a token, every check ran
