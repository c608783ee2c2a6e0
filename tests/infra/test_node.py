"""One supported Node for the CDK toolchain: the one package.json pins, everywhere."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from infra import PROJECT_NODE

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = json.loads((ROOT / "package.json").read_text())


def _pinned() -> str:
    version: str = PACKAGE["devDependencies"]["node"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "an exact version, as package-lock.json has it"
    return version


def test_the_pinned_node_is_installed_and_is_an_lts_release() -> None:
    version = _pinned()
    assert int(version.split(".")[0]) % 2 == 0  # even majors are Node's LTS lines
    assert int(version.split(".")[0]) >= 22  # what the CDK CLI and jsii support in 2026
    done = subprocess.run(  # noqa: S603 - the project's own binary
        [str(PROJECT_NODE), "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == f"v{version}"


def test_jsii_runs_on_the_pinned_node() -> None:
    """The CDK app, the tests and the local runtime's synthesis all import infra first."""
    assert os.environ["JSII_NODE"] == str(PROJECT_NODE)


def test_the_workflow_installs_the_same_node() -> None:
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    (major,) = re.findall(r'node-version:\s*"?(\d+)"?', workflow)
    assert major == _pinned().split(".")[0]
