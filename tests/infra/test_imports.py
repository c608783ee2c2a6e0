"""Synthesis depends on the contract (``app.contract``), not on the framework or the service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("fastapi", "pydantic", "pydantic_core", "starlette", "app.service", "app.main")


def test_the_cdk_app_imports_no_framework_and_no_service() -> None:
    code = (
        "import json, sys\n"
        "import infra.app, infra.preflight\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    done = subprocess.run(  # noqa: S603 - a fixed argv
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    modules = json.loads(done.stdout.splitlines()[-1])
    assert "infra.stack" in modules  # the whole stack was imported
    loaded = [m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert loaded == []
    ours = {m for m in modules if m == "app" or m.startswith("app.")}
    assert ours <= {"app", "app.contract"} | {m for m in ours if m.startswith("app.contract.")}
