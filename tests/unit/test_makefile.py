"""The Makefile's own output: `make help`, `make token`, what `make smoke` echoes, and `make
gateway` on a machine without CPython 3.13."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from devtools.ports import free_port
from tests.support import wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
# Set by an outer make (`make test`) or the shell; each would change what these makes print.
INHERITED = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "HOST", "PORT", "GATEWAY_PORT", "MOTO_PORT",
             "BASE_URL", "TOKEN", "CREATE_USER", "STAGE", "URL", "RATE", "SECONDS", "MIX",
             "REMOTE", "LOAD_ARGS"}  # fmt: skip

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def run_make(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``make args`` as a user's shell runs it (``env``: instead of this environment)."""
    env = {k: v for k, v in (env or os.environ).items() if k not in INHERITED}
    return subprocess.run(  # noqa: S603
        ["make", "--no-print-directory", "-C", str(ROOT), *args],  # noqa: S607
        env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def make(*args: str) -> str:
    done = run_make(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_smoke_never_echoes_the_bearer_token() -> None:
    printed = make("-n", "smoke", "BASE_URL=http://127.0.0.1:3000", "TOKEN=secret.jwt.value")
    assert "pytest -p no:cacheprovider smoke" in printed
    assert "secret.jwt.value" not in printed


def test_verify_never_echoes_the_token_and_creates_a_user_only_when_told() -> None:
    printed = make("-n", "verify", "STAGE=prod", "TOKEN=secret.jwt.value")
    assert "python -m infra.verify -c stage=prod" in printed
    assert "secret.jwt.value" not in printed
    assert "--create-user" not in printed
    assert "--create-user" in make("-n", "verify", "CREATE_USER=1")


def test_load_never_echoes_the_bearer_token() -> None:
    printed = make("-n", "load", "URL=http://127.0.0.1:3000", "RATE=5", "TOKEN=secret.jwt.value")
    assert '-m devtools.load "http://127.0.0.1:3000" --rate "5"' in printed
    assert "--remote" not in printed
    assert "secret.jwt.value" not in printed
    assert "--remote" in make("-n", "load", "URL=https://api.example.com", "REMOTE=1")


def test_help_shows_the_values_of_the_variables_it_names() -> None:
    printed = make("help")
    assert "http://127.0.0.1:8000" in printed  # make run
    assert "http://127.0.0.1:3000" in printed  # make gateway
    assert "$(" not in printed
    assert "http://127.0.0.1:9000" in make("help", "PORT=9000")


def test_help_names_each_knob_with_its_value() -> None:
    (run,) = [line for line in make("help").splitlines() if line.startswith("  make run ")]
    assert run.endswith("[HOST=127.0.0.1 PORT=8000]")
    assert "[HOST=127.0.0.1 PORT=9001]" in make("help", "PORT=9001")


def test_token_prints_the_token_and_nothing_else() -> None:
    done = run_make("token", "SUB=alice")
    assert (done.returncode, done.stderr) == (0, "")
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+\n", done.stdout), done.stdout


# What `make -s gateway` prints besides the gateway's own output: the sync of `make setup`, and
# make's own line when a command fails ("make: *** [Makefile:58: gateway] Error 1").
NOT_THE_GATEWAYS = re.compile(r"(Resolved|Checked|Audited) \d+ packages? in |make: \*\*\* ")


def without_python_3_13(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This environment with every way to a CPython 3.13 closed: PATH, pyenv, uv's own."""
    path = [
        folder
        for folder in os.environ["PATH"].split(os.pathsep)
        if not list(Path(folder).glob("python3.13*")) and ".pyenv" not in folder
    ]
    env = {k: v for k, v in os.environ.items() if k not in {"BUNDLE_PYTHON", "PYENV_ROOT"}}
    return {
        **env,
        "PATH": os.pathsep.join(path),
        "HOME": str(tmp_path),
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv-python"),
        **extra,
    }


@pytest.mark.parametrize("downloads", ["", "never"])
def test_gateway_without_python_3_13_is_one_line_before_anything_starts(
    tmp_path: Path, downloads: str
) -> None:
    env = without_python_3_13(tmp_path, UV_PYTHON_DOWNLOADS=downloads)
    done = run_make("-s", "gateway", "GATEWAY_PORT=9", env=env, timeout=120)
    printed = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if not NOT_THE_GATEWAYS.match(line)
    ]
    assert done.returncode != 0
    assert len(printed) == 1, printed  # no banner, no traceback
    (line,) = printed
    assert line.startswith("make gateway: no CPython 3.13 found")
    assert line.endswith("make gateway GATEWAY_ARGS=--in-process")
    if downloads == "never":  # uv may not download interpreters here: a python3.13 from elsewhere
        assert "uv python install" not in line
        assert "$BUNDLE_PYTHON" in line
    else:
        assert re.search(r"`\S*uv python install 3\.13`", line), line


def test_gateway_on_a_port_in_use_is_one_line_before_anything_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_make("-s", "gateway", f"GATEWAY_PORT={port}", timeout=120)
    printed = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if not NOT_THE_GATEWAYS.match(line)
    ]
    assert done.returncode != 0
    assert printed == [
        f"make gateway: cannot listen on 127.0.0.1:{port} (Address already in use): stop what "
        "uses it or pick another port (make gateway GATEWAY_PORT=<port>, or --port)"
    ]  # no moto, no synthesis, no published version


@pytest.mark.parametrize(
    ("arguments", "needs_node"),
    [("", True), ("--in-process", False), ("--in-process --timeout 5", False)],
)
def test_only_the_gateways_runtime_path_needs_node(arguments: str, needs_node: bool) -> None:
    # -W package.json: as if package.json had changed, so npm ci runs if the target needs it.
    planned = make("-n", "-W", "package.json", "gateway", f"GATEWAY_ARGS={arguments}")
    assert ("npm ci" in planned) is needs_node, planned
    assert "-m devtools.gateway" in planned


def test_check_reports_its_workers_once() -> None:
    """`make check`'s pytest command, on one small module, as a terminal-less run prints it."""
    dry_run = make("-n", "check").replace("\\\n", " ")
    (command,) = [line for line in dry_run.splitlines() if " pytest " in line]
    done = subprocess.run(  # noqa: S603
        ["bash", "-c", f"{command} tests/unit/test_dev_issuer.py"],  # noqa: S607
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("bringing up nodes") <= 1, done.stdout
    assert "workers [4 items]" in done.stdout


def test_gateway_for_the_prod_stack_serves_with_the_development_issuer(tmp_path: Path) -> None:
    """``STAGE`` picks the stack the gateway serves (``--stage``); as a make variable it also
    reaches the process's environment, where the app reads it as its own stage and refuses the
    development issuer's local keys in prod: `make gateway STAGE=prod` must still start."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in INHERITED}
    env["STORE_URL"] = f"sqlite:///{tmp_path / 'orders.db'}"
    proc = subprocess.Popen(  # noqa: S603
        ["make", "-s", "-C", str(ROOT), "gateway", "STAGE=prod",  # noqa: S607
         "GATEWAY_ARGS=--in-process", f"GATEWAY_PORT={port}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # a group of its own: make and the gateway it starts
    )  # fmt: skip
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", proc, timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have exited on its own
            os.killpg(proc.pid, signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert "configuration error" not in output
