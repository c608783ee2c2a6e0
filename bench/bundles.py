"""Lambda assets for the benchmarks, built once per input hash under ``var/bench/build/``.

The project's asset comes from infra/asset.py; each baseline is built the same way (locked
wheels of its dependency group in pyproject.toml, pruned, unchecked-hash bytecode by the target's
CPython), with its handler modules from bench/baselines/ at the top, so a cold start compares
frameworks, not packaging.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra import asset
from infra.asset import (
    LAMBDA_ARM64,
    Target,
    cached_bundle,
    compile_dependencies,
    compile_sources,
    host_target,
    install_locked,
)
from infra.interpreter import find_python

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "var" / "bench" / "build"
BASELINES = ROOT / "bench" / "baselines"


@dataclass(frozen=True)
class Baseline:
    """A dependency group of pyproject.toml and the bench/baselines/ modules served from it."""

    group: str
    modules: tuple[str, ...]


# hello_starlette needs only starlette + mangum: the same locked versions, from the FastAPI group.
FASTAPI = Baseline("baseline-fastapi", ("orders_boto3", "hello_mangum", "hello_starlette"))
# floor.py imports nothing: it rides in the smallest bundle.
POWERTOOLS = Baseline("baseline-powertools", ("orders_powertools", "floor"))


def project_bundle(target: Target) -> Path:
    """The project's asset for ``target`` (infra/asset.py), reused while its inputs hold."""
    return cached_bundle(target, BUILD)


def host_bundle() -> Path:
    return project_bundle(host_target())


def arm64_bundle() -> Path:
    return project_bundle(LAMBDA_ARM64)


def baseline_bundle(baseline: Baseline, target: Target | None = None) -> Path:
    """``baseline``'s asset for ``target`` (default: this machine), built as the project's is."""
    target = target or host_target()
    digest = hashlib.sha256()
    for part in (target.platform, target.python_version, baseline.group, *baseline.modules):
        digest.update(part.encode() + b"\0")
    inputs = [Path(asset.__file__), ROOT / "uv.lock", ROOT / "pyproject.toml"]
    inputs += [BASELINES / f"{module}.py" for module in baseline.modules]
    for path in inputs:
        digest.update(path.read_bytes() + b"\0")
    name = f"{baseline.group}-{target.platform}-{target.python_version}-{digest.hexdigest()[:16]}"

    def build(out: Path) -> None:
        python = find_python(target.python_version)
        out.mkdir(parents=True)
        install_locked(out, target, "--only-group", baseline.group, project_root=ROOT)
        compile_dependencies(out, python)
        for module in baseline.modules:
            source = out / f"{module}.py"
            shutil.copyfile(BASELINES / source.name, source)
            compile_sources(python, source, root=out)

    return _built(BUILD / name, build)


def _built(out: Path, build: Callable[[Path], object]) -> Path:
    """``out``, built by ``build`` into a sibling directory first unless it already exists."""
    if not out.exists():
        partial = out.with_name(out.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        build(partial)
        partial.rename(out)
    return out


def python313() -> str:
    return find_python("3.13")
