"""Build the Lambda asset without Docker: locked wheels for the target, the app, bytecode.

Pure Python and the ``uv`` CLI; no CDK import, so tests and scripts can build bundles quickly.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.contract.certificates import CERTIFI_CAPATH
from infra.capath import write_capath
from infra.interpreter import find_python
from infra.uv import uv_executable

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_PACKAGE = "app"
LAMBDA_TASK_ROOT = "/var/task"  # where Lambda unpacks the asset: the file names in tracebacks
# Bump when the bundle's layout changes in a way the hashed inputs below do not show.
BUNDLER_VERSION = "1"
# The bundler's own modules (in infra/): a change to any of them rebuilds the asset.
BUNDLER_MODULES = ("asset.py", "capath.py", "x509_hash.py")


@dataclass(frozen=True, slots=True)
class Target:
    """Where the bundle runs: a uv ``--python-platform`` and a CPython ``major.minor``."""

    platform: str
    python_version: str

    @property
    def machine(self) -> str:
        return self.platform.split("-", 1)[0]

    @property
    def abi_tag(self) -> str:
        return "cp" + self.python_version.replace(".", "")


# manylinux_2_28 wheels run on the Lambda python3.13 image (Amazon Linux 2023, glibc 2.34).
LAMBDA_ARM64 = Target("aarch64-manylinux_2_28", "3.13")


def host_target(python_version: str = LAMBDA_ARM64.python_version) -> Target:
    """This machine's platform, for a bundle that can be imported here (the smoke test)."""
    return Target(f"{platform.machine()}-manylinux_2_28", python_version)


# Not needed at run time. Each pruned module is optional for the code that imports it.
PRUNED_PATHS = (
    "bin",  # console scripts
    "pydantic/v1",  # legacy API, unused; FastAPI checks for it and copes with its absence
    "pydantic/mypy.py",  # mypy plugin
    "anyio/pytest_plugin.py",
)
PRUNED_DIRS = frozenset({"tests", "test", "__pycache__"})
PRUNED_SUFFIXES = (".pyi", ".pyx", ".pxd", ".c", ".h", ".cpp")
PRUNED_FILES = frozenset({"py.typed"})
# Optional C accelerators of yarl's stack (aiodynamo builds a few URLs per call with it): each
# package falls back to its own pure-Python implementation, and dropping them keeps the zip < 5 MiB.
PRUNED_EXTENSION_PREFIXES = (
    "multidict/_multidict.",
    "multidict/_testcapi.",  # a test helper
    "propcache/_helpers_c.",
    "yarl/_quoting_c.",
)
# importlib.metadata needs METADATA (versions) and entry_points.txt; licenses travel with code.
KEPT_DIST_INFO = frozenset({"METADATA", "entry_points.txt", "top_level.txt", "licenses"})
LICENSE_PREFIXES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS")


def asset_hash(target: Target, project_root: Path = PROJECT_ROOT) -> str:
    """A hash of every input of the bundle: same lock, app and bundler → same asset."""
    digest = hashlib.sha256()

    def feed(label: str, data: bytes) -> None:
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)

    feed("bundler", BUNDLER_VERSION.encode())
    feed("target", f"{target.platform} {target.python_version}".encode())
    for name in BUNDLER_MODULES:
        feed(f"infra/{name}", (Path(__file__).parent / name).read_bytes())
    for name in ("uv.lock", "pyproject.toml"):
        feed(name, (project_root / name).read_bytes())
    for path in _app_sources(project_root):
        feed(path.relative_to(project_root).as_posix(), path.read_bytes())
    return digest.hexdigest()


def build_bundle(
    out_dir: Path,
    target: Target = LAMBDA_ARM64,
    *,
    project_root: Path = PROJECT_ROOT,
    python: str | None = None,
) -> Path:
    """Build the asset into the empty ``out_dir``; returns it.

    Steps: export the locked ``aws`` runtime dependencies (no dev/infra groups), install their
    wheels for ``target``, prune what is never imported, precompile unchecked-hash bytecode with
    the target's CPython (dependencies sourceless, ``app`` keeps its sources), write certifi's
    roots as a hashed directory beside its ``cacert.pem`` (``certifi/capath``: at run time OpenSSL
    then reads only the root a handshake needs), add ``app``.
    """
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValueError(f"bundle output directory is not empty: {out_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    python = python or find_python(target.python_version)
    install_locked(out_dir, target, "--extra", "aws", project_root=project_root)
    compile_dependencies(out_dir, python)
    certifi = out_dir / "certifi"
    write_capath(certifi / "cacert.pem", certifi / CERTIFI_CAPATH)
    app_dir = out_dir / APP_PACKAGE
    for path in _app_sources(project_root):
        dest = out_dir / path.relative_to(project_root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    compile_sources(python, app_dir, root=out_dir)
    return out_dir


def install_locked(
    out_dir: Path, target: Target, *selection: str, project_root: Path = PROJECT_ROOT
) -> None:
    """Install into ``out_dir`` the wheels for ``target`` of what ``selection`` picks from uv.lock.

    ``selection``: ``uv export`` options (``--extra aws``, ``--only-group NAME``); no default
    groups, no project, exact versions and hashes.
    """
    with tempfile.TemporaryDirectory(prefix="orders-bundle-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        _uv(project_root, "export", "--frozen", "--no-default-groups", "--no-emit-project",
            *selection, "--format", "requirements.txt", "--no-header",
            "--output-file", str(requirements))  # fmt: skip
        _uv(project_root, "pip", "install", "--no-config", "--target", str(out_dir),
            "--python-platform", target.platform, "--python-version", target.python_version,
            "--only-binary", ":all:", "--no-deps", "--require-hashes", "--link-mode", "copy",
            "--requirements", str(requirements))  # fmt: skip


def compile_dependencies(out_dir: Path, python: str) -> None:
    """Prune ``out_dir`` and leave only unchecked-hash bytecode of its modules, no sources.

    Legacy-layout .pyc beside (instead of) the sources, loaded without a stat of any .py. Lambda
    zips reset file dates, so only hash-based .pyc are ever used.
    """
    _prune(out_dir)
    _compileall(python, out_dir, strip=out_dir, legacy=True)
    for source in out_dir.rglob("*.py"):
        source.unlink()


def compile_sources(python: str, path: Path, *, root: Path) -> None:
    """Unchecked-hash ``__pycache__`` bytecode for the sources at ``path``, which stay.

    Tracebacks show the lines; ``root`` is the bundle's top (``/var/task`` in the bytecode).
    """
    _compileall(python, path, strip=root)


def cached_bundle(
    target: Target, cache: Path, announce: Callable[[str], None] | None = None
) -> Path:
    """The asset for ``target`` in ``cache``, built on first use and reused while its inputs
    (``asset_hash``) hold: ``<cache>/orders-<platform>-<python>-<hash>``. ``announce`` is
    told before a build, never when the asset is reused."""
    out = cache / f"orders-{target.platform}-{target.python_version}-{asset_hash(target)[:16]}"
    with exclusive(cache / f"{out.name}.lock"):
        if not (out / APP_PACKAGE / "aws_lambda" / "handler.py").exists():
            if announce is not None:
                announce(f"building the asset for {target.platform} (new or changed sources)...")
            shutil.rmtree(out, ignore_errors=True)
            partial = out.with_name(out.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            build_bundle(partial, target)
            partial.rename(out)
    return out


@contextmanager
def exclusive(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``lock`` (created if needed): one builder of a
    cached artifact at a time, across processes (test workers, tools)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _app_sources(project_root: Path) -> list[Path]:
    root = project_root / APP_PACKAGE
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _uv(cwd: Path, *args: str) -> None:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    _run([uv_executable(), *args], cwd=cwd, env=env)


def _compileall(python: str, directory: Path, *, strip: Path, legacy: bool = False) -> None:
    # -s/-p: file names inside the bytecode are /var/task/..., the same on every build machine.
    _run([python, "-I", "-m", "compileall", "-q", "-j", "0", "--invalidation-mode",
          "unchecked-hash", "-s", str(strip), "-p", LAMBDA_TASK_ROOT,
          *(["-b"] if legacy else []), str(directory)])  # fmt: skip


def _run(command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(
            f"bundling step failed ({done.returncode}): {' '.join(command)}\n"
            f"{done.stdout}\n{done.stderr}"
        )


def _prune(root: Path) -> None:
    for relative in PRUNED_PATHS:
        _remove(root / relative)
    for path in sorted(root.rglob("*"), reverse=True):  # children before their parents
        if path.exists() and _is_pruned(path, path.relative_to(root).as_posix()):
            _remove(path)


def _is_pruned(path: Path, relative: str) -> bool:
    if path.is_dir():
        return path.name in PRUNED_DIRS
    if path.parent.name.endswith(".dist-info"):
        return path.name not in KEPT_DIST_INFO and not path.name.upper().startswith(
            LICENSE_PREFIXES
        )
    return (
        path.name in PRUNED_FILES
        or path.name.endswith(PRUNED_SUFFIXES)
        or relative.startswith(PRUNED_EXTENSION_PREFIXES)
    )


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
