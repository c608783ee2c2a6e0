"""What the local runtime runs, built once and cached under ``var/lambda-runtime/``.

- The task root: the asset the project's bundler builds for this machine's platform (the same
  code and bytecode as the arm64 asset), copied once into a read-only directory.
- The runtime: a Python 3.13 environment with AWS's runtime interface client (``awslambdaric``,
  from the ``lambda-runtime`` group of uv.lock) and nothing else; never part of the asset.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

from infra.asset import PROJECT_ROOT, cached_bundle, exclusive, host_target
from infra.interpreter import find_python

CACHE = PROJECT_ROOT / "var" / "lambda-runtime"
PYTHON_VERSION = "3.13"  # the stack's runtime (infra/compute.py: PYTHON_3_13)
RUNTIME_GROUP = "lambda-runtime"


Announce = Callable[[str], None]


def task_root(cache: Path = CACHE, announce: Announce | None = None) -> Path:
    """A read-only copy of the host-platform asset (``LAMBDA_TASK_ROOT``); older builds of
    the asset are removed. ``announce`` is told of a build, never of a reuse."""
    target = host_target(PYTHON_VERSION)
    asset = cached_bundle(target, cache, announce)
    copy = asset.with_name(asset.name + ".task")
    with exclusive(cache / f"{copy.name}.lock"):  # one process at a time prunes and copies
        for stale in cache.glob(f"orders-{target.platform}-{target.python_version}-*"):
            if not stale.name.startswith(asset.name):
                _remove(stale)
        _read_only_copy(asset, copy)
    return copy


def read_only_copy(bundle: Path) -> Path:
    """A read-only copy of ``bundle`` beside it (``<bundle>.task``), made once: the task root
    of any other bundle (e.g. a benchmark's baseline) run by the local runtime."""
    copy = bundle.with_name(bundle.name + ".task")
    with exclusive(bundle.with_name(f"{copy.name}.lock")):
        _read_only_copy(bundle, copy)
    return copy


def _read_only_copy(source: Path, copy: Path) -> None:
    if not (copy / ".complete").exists():
        _remove(copy)
        partial = copy.with_name(copy.name + ".partial")
        _remove(partial)
        shutil.copytree(source, partial)
        (partial / ".complete").touch()
        read_only(partial)
        partial.rename(copy)  # a read-only directory can still be renamed


def runtime_python(cache: Path = CACHE, announce: Announce | None = None) -> Path:
    """The interpreter of a Python 3.13 environment holding only the locked ``awslambdaric``
    (and its dependencies ``snapshot-restore-py`` and ``simplejson``); ``announce`` is told
    when it is installed, never when it is reused."""
    uv = _uv()
    python = find_python(PYTHON_VERSION)
    requirements = _run(
        [uv, "export", "--frozen", "--only-group", RUNTIME_GROUP, "--no-emit-project",
         "--format", "requirements.txt", "--no-header", "--quiet"],
        cwd=PROJECT_ROOT,
    )  # fmt: skip
    digest = hashlib.sha256(f"{python}\0{requirements}".encode()).hexdigest()[:16]
    venv = cache / f"runtime-py{PYTHON_VERSION}-{digest}"
    interpreter = venv / "bin" / "python"
    with exclusive(cache / f"{venv.name}.lock"):
        if not (venv / ".complete").exists():
            if announce is not None:
                announce(f"installing AWS's runtime interface client into {venv.name}...")
            _remove(venv)
            (cache / f"{venv.name}.txt").write_text(requirements)
            _run([uv, "venv", "--quiet", "--python", python, str(venv)])
            _run([uv, "pip", "install", "--quiet", "--no-config", "--python", str(interpreter),
                  "--require-hashes", "--only-binary", ":all:", "--link-mode", "copy",
                  "--requirements", str(cache / f"{venv.name}.txt")])  # fmt: skip
            (venv / ".complete").touch()
    return interpreter


def site_packages(interpreter: Path) -> Path:
    """The runtime environment's ``site-packages`` (``LAMBDA_RUNTIME_DIR``)."""
    (found,) = (interpreter.parent.parent / "lib").glob("python3.*/site-packages")
    return found


def read_only(root: Path) -> None:
    """Remove every write permission below ``root`` (and of ``root``)."""
    for path in sorted(root.rglob("*"), reverse=True):
        if not path.is_symlink():
            _chmod_read_only(path)
    _chmod_read_only(root)


def _chmod_read_only(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _remove(path: Path) -> None:
    """Delete ``path`` even when it was made read-only."""
    if path.is_file():
        path.unlink()
        return
    if not path.exists():
        return
    for child in [path, *path.rglob("*")]:
        if child.is_dir() and not child.is_symlink():
            child.chmod(stat.S_IMODE(child.stat().st_mode) | stat.S_IWUSR)
    shutil.rmtree(path)


def _uv() -> str:
    return os.environ.get("UV") or shutil.which("uv") or str(PROJECT_ROOT / ".tools/bin/uv")


def _run(command: list[str], *, cwd: Path | None = None) -> str:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    done = subprocess.run(  # noqa: S603 - uv and fixed arguments
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout
