"""``make gateway``'s command at a terminal: its own access lines whatever the environments do,
the smoke suite's one line without a TOKEN, and a Ctrl-C that stops every environment at once.

The gateway runs as ``make gateway`` runs it (the local Lambda runtime, SnapStart, the dev
stage's throttles and reserved concurrency from the synthesized template), as a subprocess
with ``--log-format lines`` (what a terminal gets) and ``--log-file`` (the JSON).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from devtools import dev_issuer
from devtools.ports import free_port
from tests.smoke_runner import smoke_suite
from tests.support import alive, descendants

ROOT = Path(__file__).parents[2]
APP_VARIABLES = ("STORE_URL", "IDENTITY_MODE", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_JWKS_URL")
ENVIRONMENTS = 10  # the dev stage's reserved concurrency
STOP_WITHIN = 3.0  # seconds from Ctrl-C to exit, environments and their servers stopped


def _start(port: int, env: dict[str, str], log_file: Path, output: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "devtools.gateway", "--port", str(port)]
    command += ["--log-format", "lines", "--log-file", str(log_file)]
    with output.open("w") as sink:
        # SIGINT's default disposition, whatever this process inherited (a background job's
        # SIGINT is ignored), as a terminal's program has it.
        return subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            command,
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )


def _wait_until_up(process: subprocess.Popen[str], base_url: str, output: Path) -> None:
    deadline = time.monotonic() + 300  # a fresh clone synthesizes and builds first
    while True:
        assert process.poll() is None, output.read_text()
        try:
            if httpx.get(f"{base_url}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, output.read_text()
        time.sleep(0.2)


@pytest.mark.slow
def test_the_gateway_at_a_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "dev-issuer"
    issuer = {k: v for k, v in dev_issuer.env(folder).items() if k != "IDENTITY_MODE"}
    dev_issuer.signing_key(folder)
    env = {k: v for k, v in os.environ.items() if k not in APP_VARIABLES}
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    env.update(issuer, GREET_DELAY="0")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_file, output = tmp_path / "gateway.jsonl", tmp_path / "terminal.log"
    process = _start(port, env, log_file, output)
    try:
        _wait_until_up(process, base_url, output)
        # Without TOKEN, the smoke suite says what to set in one line, before any test runs.
        smoke = smoke_suite(base_url, token=None)
        said = (smoke.stdout + smoke.stderr).strip().splitlines()
        assert smoke.returncode != 0
        assert len(said) == 1, said
        assert "wants a bearer token" in said[0], said
        assert "TOKEN=$(make token)" in said[0], said
        # Requests in flight together: each takes an environment of its own (a protected
        # route: the stage's default throttle, which admits them all at once).
        bearer = {"authorization": f"Bearer {dev_issuer.mint('terminal-user', folder=folder)}"}
        with ThreadPoolExecutor(ENVIRONMENTS) as pool:
            calls = [
                pool.submit(httpx.get, f"{base_url}/orders", headers=bearer, timeout=60)
                for _ in range(ENVIRONMENTS)
            ]
            answers = [call.result() for call in calls]
        assert {a.status_code for a in answers} == {200}
        assert httpx.get(f"{base_url}/orders").status_code == 401
        with ThreadPoolExecutor(4) as pool:
            greetings = list(pool.map(lambda _: httpx.get(f"{base_url}/hi", timeout=40), range(4)))
        assert 429 in [g.status_code for g in greetings]
        time.sleep(0.5)  # the last access lines reach the file
        children = descendants(process.pid)
        started = time.monotonic()
        process.send_signal(signal.SIGINT)  # what a terminal's Ctrl-C does
        process.wait(timeout=30)
        stopped = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    terminal = output.read_text()
    lines = terminal.splitlines()
    environments = {int(line.split(" env ")[1].split()[0]) for line in lines if " env " in line}
    assert len(environments) >= ENVIRONMENTS // 2, terminal
    # The gateway's own access lines, readable, after the environments started.
    first_served = next(i for i, line in enumerate(lines) if " env " in line)
    later = lines[first_served:]
    assert any(" GET /orders 401 " in line for line in later), terminal
    assert any(" GET /hi 429 " in line and "throttled (stage)" in line for line in later), terminal
    assert "platform.report" not in terminal, terminal  # at a terminal: the JSON is a file away
    assert "Application startup complete" in terminal, terminal
    # Ctrl-C: said what it does, every environment and server stopped together, nothing left.
    assert f"stopping {len(environments)} environments" in terminal, terminal
    assert "Traceback" not in terminal, terminal
    assert stopped <= STOP_WITHIN, (stopped, terminal)
    assert children
    assert not [pid for pid in children if alive(pid)]
    assert process.returncode == -signal.SIGINT
    records = [json.loads(line) for line in log_file.read_text().splitlines()]
    statuses = {r["status"] for r in records if r.get("type") == "gateway.access"}
    assert {200, 401, 429} <= statuses
    assert any(r.get("type") == "platform.report" for r in records)
