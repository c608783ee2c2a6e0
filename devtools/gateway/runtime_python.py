"""Whether the local Lambda runtime can start here: a CPython of Lambda's runtime version."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from devtools.lambda_runtime.artifacts import PYTHON_VERSION
from infra.interpreter import PYTHON_ENV, find_python
from infra.uv import find_uv


def require_runtime_python(environ: Mapping[str, str] = os.environ) -> None:
    """Exit with one line, before anything starts, if no CPython of Lambda's runtime version
    (which the local Lambda runtime runs) is on this machine."""
    try:
        find_python(PYTHON_VERSION)
    except RuntimeError:
        raise SystemExit(no_runtime_python(environ)) from None


def no_runtime_python(environ: Mapping[str, str]) -> str:
    """What to do without a CPython 3.13: install one (with uv where uv may download
    interpreters) or serve the handler in this process."""
    version = PYTHON_VERSION
    uv = find_uv(environ)
    # The Makefile forbids uv's implicit downloads and keeps the user's own setting here.
    downloads = environ.get("USER_UV_PYTHON_DOWNLOADS", environ.get("UV_PYTHON_DOWNLOADS", ""))
    if uv and downloads != "never":
        if shutil.which("uv", path=environ.get("PATH")) == uv:
            uv = "uv"
        elif Path(uv).is_relative_to(Path.cwd()):
            uv = str(Path(uv).relative_to(Path.cwd()))
        install = f"run `{uv} python install {version}`"
    else:
        install = (
            f"install python{version} (your OS's package, pyenv) or point ${PYTHON_ENV} at one"
        )
    return (
        f"make gateway: no CPython {version} found (Lambda's runtime, which the function runs "
        f"in; looked at ${PYTHON_ENV}, python{version} on PATH, pyenv, uv's): {install}, or "
        "serve the handler in this process without it: make gateway GATEWAY_ARGS=--in-process"
    )
