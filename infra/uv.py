"""Which ``uv`` to run: the Makefile's choice, else uv on ``PATH``, else the Makefile's own copy.

``make setup`` bootstraps uv into ``.tools/bin`` when none is installed and never puts it on
``PATH``, so a CDK app started by ``npx cdk`` (or a test) must find that copy by itself.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
UV_ENV = "UV"  # set by the Makefile, and by `uv run` for its children


def bootstrapped_uv(project_root: Path = PROJECT_ROOT) -> Path:
    """Where the Makefile installs uv when there is none on ``PATH``."""
    return project_root / ".tools" / "bin" / "uv"


def find_uv(
    environ: Mapping[str, str] | None = None, project_root: Path = PROJECT_ROOT
) -> str | None:
    """The path of a uv executable, or None: ``$UV``, ``uv`` on ``PATH``, ``.tools/bin/uv``."""
    environ = os.environ if environ is None else environ
    if environ.get(UV_ENV):
        return environ[UV_ENV]
    on_path = shutil.which("uv", path=environ.get("PATH", os.defpath))
    if on_path:
        return on_path
    bootstrapped = bootstrapped_uv(project_root)
    return str(bootstrapped) if os.access(bootstrapped, os.X_OK) else None


def uv_executable() -> str:
    """Like :func:`find_uv`, but raises with what to do when there is no uv at all."""
    uv = find_uv()
    if uv is None:
        raise RuntimeError(
            f"uv not found: run `make setup` (it installs uv into {bootstrapped_uv().parent}) "
            f"or install uv, or point ${UV_ENV} at it"
        )
    return uv
