"""The CDK app as the CDK CLI starts it: ``cdk.json``'s command through a shell, no uv on PATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from infra.uv import find_uv
from tests.infra.conftest import Synthesized

ROOT = Path(__file__).resolve().parents[2]


def _path_without_uv() -> str:
    """This PATH minus every directory holding a ``uv`` (node stays: jsii needs it)."""
    kept = [
        d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not Path(d, "uv").exists()
    ]
    return os.pathsep.join(kept)


def test_the_app_in_cdk_json_synthesizes_with_no_uv_on_path(
    dev: Synthesized, tmp_path: Path
) -> None:
    """What `make synth` and `npx cdk synth` do after `make setup` bootstrapped uv privately."""
    cdk_json = json.loads((ROOT / "cdk.json").read_text())
    outdir = tmp_path / "cdk.out"
    outdir.mkdir()
    # The asset the session's synthesis staged, under its content hash: CDK skips bundling it.
    for asset in dev.asset_dirs():
        (outdir / asset.name).symlink_to(asset, target_is_directory=True)
    # No JSII_* either: the app must find the pinned Node itself, and no banner is silenced.
    env = {k: v for k, v in os.environ.items() if k != "UV" and not k.startswith(("CDK_", "JSII_"))}
    # What the CDK CLI hands the app: the output directory and cdk.json's context.
    env |= {
        "PATH": _path_without_uv(),
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(cdk_json["context"]),
    }
    assert shutil.which("uv", path=env["PATH"]) is None
    done = subprocess.run(  # noqa: S602 - the CLI runs the app command through a shell, too
        cdk_json["app"], shell=True, cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    template = outdir / f"{dev.stack.stack_name}.template.json"
    assert json.loads(template.read_text()) == dev.template_json
    assert "Bundling asset" not in done.stderr
    # jsii's end-of-life banner (printed as Python bytes literals) on an unsupported Node.
    assert "end-of-life" not in done.stderr
    assert "b'!!" not in done.stderr


def _executable(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize(
    ("uv_env", "on_path", "bootstrapped", "expected"),
    [
        pytest.param(True, True, True, "env", id="$UV wins"),
        pytest.param(False, True, True, "path", id="then uv on PATH"),
        pytest.param(False, False, True, "bootstrapped", id="then the Makefile's .tools/bin/uv"),
        pytest.param(False, False, False, None, id="else none"),
    ],
)
def test_uv_is_found_without_being_on_path(
    tmp_path: Path, uv_env: bool, on_path: bool, bootstrapped: bool, expected: str | None
) -> None:
    project = tmp_path / "project"
    candidates = {
        "env": _executable(tmp_path / "env" / "uv"),
        "path": _executable(tmp_path / "bin" / "uv"),
        "bootstrapped": str(project / ".tools" / "bin" / "uv"),
    }
    if bootstrapped:
        _executable(Path(candidates["bootstrapped"]))
    environ = {"PATH": str(tmp_path / ("bin" if on_path else "empty"))}
    if uv_env:
        environ["UV"] = candidates["env"]
    found = find_uv(environ, project_root=project)
    assert found == (candidates[expected] if expected else None)
