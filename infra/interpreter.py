"""Find a CPython of a given ``major.minor`` on this machine (never downloads one)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from infra.uv import find_uv

PYTHON_ENV = "BUNDLE_PYTHON"  # an explicit interpreter wins over discovery


def find_python(version: str) -> str:
    """The path of a working ``python<version>``: $BUNDLE_PYTHON, PATH, pyenv, then uv's."""
    for candidate in _candidates(version):
        if candidate and _reports_version(candidate, version):
            return candidate
    raise RuntimeError(
        f"no Python {version} found: install one (pyenv, uv python install, the OS) "
        f"or point ${PYTHON_ENV} at it"
    )


def _candidates(version: str) -> Iterator[str]:
    """In order of preference, lazily: asking uv costs seconds, so only when all else failed."""
    yield os.environ.get(PYTHON_ENV, "")
    yield shutil.which(f"python{version}") or ""
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    yield from sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"))
    uv = find_uv()
    if uv:
        done = _run([uv, "python", "find", "--no-project", "--system", version])
        yield done.stdout.strip() if done.returncode == 0 else ""


def _reports_version(python: str, version: str) -> bool:
    done = _run([python, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
    return done.returncode == 0 and done.stdout.strip() == version


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    try:
        return subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, check=False, env=env, timeout=30
        )
    except OSError as error:
        return subprocess.CompletedProcess(command, 127, "", str(error))
