"""Processes as a user runs them: Ctrl-C on `make run` / `make gateway`, failed startups, bad
settings, a script that imports the Lambda handler."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from devtools.ports import free_port
from tests.support import alive, descendants, wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
GREETING = '"Hello, async FastAPI!"'


# What make prints when its command exits non-zero: "make: *** [Makefile:12: run] Error 2".
MAKE_ERROR = re.compile(r"\*\*\* \[[^\]]*\] Error \d+")


def user_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a user's shell: no make state from an outer make, a fresh store."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return {**inherited, "STORE_URL": f"sqlite:///{tmp_path / 'orders.db'}", **extra}


def default_sigint() -> None:
    """In the child, before it runs: SIGINT's default disposition, as a terminal's foreground
    job has it. A background job of a non-interactive shell (``make test &``) starts with
    SIGINT ignored, and children inherit that: make would then ignore the Ctrl-C these tests
    send, and Python would install no handler of its own."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def make(target: str, env: dict[str, str], port: int) -> Iterator[subprocess.Popen[str]]:
    """``make <target>`` in a process group of its own, as a terminal's foreground job."""
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        ["make", "-s", target],  # noqa: S607 - make from PATH, as the user runs it
        cwd=ROOT,
        env=env,
        start_new_session=True,
        preexec_fn=default_sigint,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # the first run may sync the environment
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"make {target} did not start:\n{proc.communicate()[0]}")
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.stdout is not None and not proc.stdout.closed:
            proc.communicate()


def greet_in_background(port: int) -> tuple[threading.Thread, list[httpx.Response | Exception]]:
    outcome: list[httpx.Response | Exception] = []

    def greet() -> None:
        try:
            outcome.append(httpx.get(f"http://127.0.0.1:{port}/hi", timeout=30))
        except Exception as exc:  # reported by the test
            outcome.append(exc)

    thread = threading.Thread(target=greet)
    thread.start()
    time.sleep(1)  # the request is in flight: GET /hi awaits GREET_DELAY=3 s
    return thread, outcome


@pytest.mark.parametrize("target", ["run", "gateway"])
def test_one_ctrl_c_drains_the_request_in_flight_and_shuts_down_once(
    tmp_path: Path, target: str
) -> None:
    port = free_port()
    env = user_env(tmp_path, PORT=str(port), GATEWAY_PORT=str(port), GREET_DELAY="3")
    with make(target, env, port) as proc:
        thread, outcome = greet_in_background(port)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        thread.join(timeout=30)
        status = proc.wait(timeout=30)
        log = proc.communicate()[0]
    response = outcome[0]
    assert isinstance(response, httpx.Response), response
    assert (response.status_code, response.text) == (200, GREETING)
    assert log.count("app stopped: store closed") == 1, log
    assert "Traceback" not in log, log
    # make prints "*** [Makefile:..: run] Error N" when its command exits non-zero; after a
    # Ctrl-C GNU make always ends by its own SIGINT (so a shell knows the job was interrupted).
    assert not MAKE_ERROR.search(log), log
    assert status == -signal.SIGINT


@pytest.mark.parametrize("target", ["run", "gateway"])
def test_a_second_ctrl_c_forces_the_exit(tmp_path: Path, target: str) -> None:
    port = free_port()
    env = user_env(tmp_path, PORT=str(port), GATEWAY_PORT=str(port), GREET_DELAY="3")
    with make(target, env, port) as proc:
        thread, _ = greet_in_background(port)
        children = descendants(proc.pid)  # with make gateway: the Lambda environments
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.3)
        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        log = proc.communicate(timeout=30)[0]
        assert time.monotonic() - started < 1.5  # the greeting still had ~1.7 s to go
        thread.join(timeout=30)
    assert "second Ctrl-C: exiting now" in log, log
    assert "Traceback" not in log, log
    assert not MAKE_ERROR.search(log), log
    assert proc.returncode == -signal.SIGINT
    assert not [pid for pid in children if alive(pid)]


def test_ctrl_c_on_make_moto_ends_it_without_an_error(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        ["make", "-s", "moto", f"MOTO_PORT={port}"],  # noqa: S607 - make from PATH
        cwd=ROOT,
        env=user_env(tmp_path),
        start_new_session=True,
        preexec_fn=default_sigint,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()[0]
                assert time.monotonic() < deadline, "make moto did not start"
                time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGINT)
        log = proc.communicate(timeout=30)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert not MAKE_ERROR.search(log), log  # was "make: *** [Makefile:..: moto] Error 130"
    assert "Traceback" not in log, log
    assert proc.returncode == -signal.SIGINT


def test_a_request_the_drain_cuts_off_is_a_json_503(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "app.server", "--port", str(port), "--drain-timeout", "1"],
        cwd=ROOT,
        env=user_env(tmp_path, GREET_DELAY="5"),
        start_new_session=True,
        preexec_fn=default_sigint,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", server)
        thread, outcome = greet_in_background(port)
        os.killpg(server.pid, signal.SIGINT)
        thread.join(timeout=30)
        status = server.wait(timeout=30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        log = server.communicate()[0]
    response = outcome[0]
    assert isinstance(response, httpx.Response), response
    assert (response.status_code, response.headers["retry-after"]) == (503, "1")
    assert response.json() == {"detail": "The server stopped before this request finished; retry"}
    assert status == 0
    assert "Traceback" not in log, log
    assert log.count("app stopped: store closed") == 1, log


def run_python(
    env: dict[str, str], *args: str, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def test_a_store_file_that_is_not_sqlite_fails_the_startup_promptly(tmp_path: Path) -> None:
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("these are notes, not an SQLite database\n" * 100)
    env = user_env(tmp_path, STORE_URL=f"sqlite:///{not_a_database}")
    started = time.monotonic()
    result = run_python(
        env, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(free_port())
    )
    assert time.monotonic() - started < 20
    assert result.returncode == 3  # uvicorn's status for a failed startup
    assert "file is not a database" in result.stderr


def test_a_script_that_imports_the_lambda_handler_on_sqlite_exits(tmp_path: Path) -> None:
    env = user_env(tmp_path, IDENTITY_MODE="gateway")
    code = "import app.aws_lambda.handler\nprint('imported')"
    result = run_python(env, "-c", code)
    assert (result.returncode, result.stdout.strip()) == (0, "imported"), result.stderr


BAD_SETTINGS = [
    ({"GREET_DELAY": "abc"}, "GREET_DELAY='abc' is invalid: input should be a valid number"),
    ({"STORE_URL": "garbage"}, "STORE_URL='garbage' is invalid: not a store URL; use sqlite:///"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD' is invalid: input should be 'DEBUG', 'INFO'"),
]


@pytest.mark.parametrize(
    ("module", "bad", "line"),
    # every setting through the server; the gateway emulator reports one the same way
    [("app.server", *setting) for setting in BAD_SETTINGS]
    + [("devtools.gateway", *BAD_SETTINGS[0])],
)
def test_a_bad_setting_is_one_line_and_exit_status_2(
    tmp_path: Path, module: str, bad: dict[str, str], line: str
) -> None:
    result = run_python(user_env(tmp_path, **bad), "-m", module, "--port", "9")
    assert result.returncode == 2
    assert result.stderr.startswith(f"configuration error: {line}")
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_a_bad_setting_is_the_lambda_init_error(tmp_path: Path) -> None:
    env = user_env(tmp_path, IDENTITY_MODE="gateway", GREET_DELAY="abc")
    result = run_python(env, "-c", "import app.aws_lambda.handler")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("app.config.ConfigError: GREET_DELAY='abc' is invalid")
    assert "pydantic" not in result.stderr  # no chained validation traceback
