"""Running the black-box smoke suite (smoke/) against a base URL, in a pytest subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def run_smoke_suite(base_url: str, token: str | None) -> str:
    """Run smoke/ against ``base_url`` (with ``token`` as TOKEN); its output. Fails the
    calling test when the suite fails."""
    result = smoke_suite(base_url, token)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def smoke_suite(base_url: str, token: str | None) -> subprocess.CompletedProcess[str]:
    """smoke/ against ``base_url`` (``token`` as TOKEN), as ``make smoke`` runs it."""
    env = {**os.environ, "BASE_URL": base_url, "TOKEN": token or ""}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", "smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
