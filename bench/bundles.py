"""Lambda assets for the benchmarks, built once per input hash under ``var/bench/build/``."""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

from infra.asset import LAMBDA_ARM64, Target, cached_bundle, host_target
from infra.interpreter import find_python

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "var" / "bench" / "build"
BASELINE_PACKAGES = ("fastapi", "mangum", "boto3")
UV = os.environ.get("UV") or shutil.which("uv") or "uv"


def project_bundle(target: Target) -> Path:
    """The project's asset for ``target`` (infra/asset.py), reused while its inputs hold."""
    return cached_bundle(target, BUILD)


def host_bundle() -> Path:
    return project_bundle(host_target())


def arm64_bundle() -> Path:
    return project_bundle(LAMBDA_ARM64)


def baseline_bundle() -> Path:
    """FastAPI + Mangum + boto3 installed the usual way: ``pip install --target``, sources only.

    The same versions of fastapi and mangum as the project's lock (boto3 as moto's), for the
    host platform and Python 3.13; no bytecode is compiled ahead of time.
    """
    pins = [f"{name}=={version(name)}" for name in BASELINE_PACKAGES]
    target = host_target()
    out = BUILD / ("baseline-" + "-".join(p.replace("==", "") for p in pins))
    if not (out / "orders_boto3.py").exists():
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run(  # noqa: S603 - uv from PATH, as infra/asset.py
            [UV, "pip", "install", "--quiet", "--no-config", "--target", str(out),
             "--python-platform", target.platform, "--python-version", target.python_version,
             "--only-binary", ":all:", "--link-mode", "copy", *pins],
            check=True,
        )  # fmt: skip
        shutil.copyfile(ROOT / "bench" / "baselines" / "orders_boto3.py", out / "orders_boto3.py")
    return out


def python313() -> str:
    return find_python("3.13")
