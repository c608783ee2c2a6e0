"""The smoke suite (smoke/) over real HTTP against both local servers, as subprocesses.

Each server is started on a free port and torn down afterwards: uvicorn with the development
identity and a fresh SQLite file; ``make gateway``'s command (the gateway emulator in front of
the local Lambda runtime, SnapStart, orders in an in-memory moto) with a development issuer of
its own (a token minted for the run).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from devtools import dev_issuer
from devtools.ports import free_port
from tests.smoke_runner import run_smoke_suite, smoke_suite

ROOT = Path(__file__).parents[2]
# Settings a developer's shell may hold that would change what the servers do.
APP_VARIABLES = ("STORE_URL", "IDENTITY_MODE", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_JWKS_URL")


def _environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in APP_VARIABLES}
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    return {**env, "GREET_DELAY": "0", **settings}


@contextmanager
def _server(
    command: list[str], env: dict[str, str], port: int, log: Path, *, start_within: float = 60
) -> Iterator[str]:
    """Run ``command`` until it answers GET /health on ``port``; yield its URL; stop it."""
    base_url = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        # The command is this interpreter with fixed arguments.
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)  # noqa: S603
        try:
            deadline = time.monotonic() + start_within
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


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'orders.db'}"


def test_smoke_suite_against_local_uvicorn(tmp_path: Path, sqlite_url: str) -> None:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    env = _environment(STORE_URL=sqlite_url, IDENTITY_MODE="dev")
    with _server(command, env, port, tmp_path / "uvicorn.log") as base_url:
        output = run_smoke_suite(base_url, token=None)
    assert " passed" in output
    assert "failed" not in output
    assert output.count("TOKEN not set") >= 1  # only the authentication checks are skipped


def test_smoke_suite_through_make_gateway(tmp_path: Path) -> None:
    folder = tmp_path / "dev-issuer"
    token = dev_issuer.mint("smoke-user", folder=folder)
    issuer = {k: v for k, v in dev_issuer.env(folder).items() if k != "IDENTITY_MODE"}
    port = free_port()
    command = [sys.executable, "-m", "devtools.gateway", "--port", str(port)]
    env = _environment(**issuer)
    # On a fresh clone the first start synthesizes the stack and builds the asset (cached).
    log = tmp_path / "gateway.log"
    with _server(command, env, port, log, start_within=300) as base_url:
        output = run_smoke_suite(base_url, token=token)
        # The suite left nothing behind: the user's listing is empty again.
        remaining = httpx.get(f"{base_url}/orders", headers={"authorization": f"Bearer {token}"})
        assert remaining.json() == {"orders": []}
        # The stage's ANY /hi throttle (dev: burst 1, ~1.1/s) from the template: of 4 greetings
        # sent at once, the bucket admits one (two if a token refills meanwhile).
        with ThreadPoolExecutor(4) as pool:
            greetings = list(pool.map(lambda _: httpx.get(f"{base_url}/hi", timeout=40), range(4)))
        throttled = [g for g in greetings if g.status_code == 429]
        assert len(throttled) >= 2, [g.status_code for g in greetings]
        assert throttled[0].json() == {"message": "Too Many Requests"}
    assert " passed" in output
    assert "skipped" not in output  # with a token, every check ran


def test_smoke_suite_against_a_dead_url_is_one_line() -> None:
    base_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    done = smoke_suite(base_url, token=None)
    said = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 4, said  # pytest's status for a usage error
    assert len(said) == 1, said
    assert said[0].startswith(f"ERROR: BASE_URL={base_url}/ does not answer"), said
    assert "start the instance or fix BASE_URL" in said[0]
