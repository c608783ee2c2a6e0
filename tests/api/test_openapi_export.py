"""The committed OpenAPI document (docs/openapi.json, docs/openapi.yaml) is the one the API serves.

`make openapi` writes it; a change to the contract that is not written back fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from app.config import Settings
from app.main import create_app
from devtools import openapi

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs"


async def served(settings: Settings) -> dict[str, Any]:
    """``GET /openapi.json`` of the app these settings build."""
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def test_the_committed_files_are_what_make_openapi_writes(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "devtools.openapi", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for name in openapi.NAMES:
        written = (tmp_path / name).read_text(encoding="utf-8")
        committed = (COMMITTED / name).read_text(encoding="utf-8")
        assert written == committed, f"docs/{name} is stale: run `make openapi`"


async def test_the_committed_document_is_what_the_deployed_api_serves(tmp_path: Path) -> None:
    """The Lambda handler's identity (API Gateway's) and IDENTITY_MODE=jwt serve it."""
    as_json = json.loads((COMMITTED / "openapi.json").read_text(encoding="utf-8"))
    as_yaml = yaml.safe_load((COMMITTED / "openapi.yaml").read_text(encoding="utf-8"))
    assert as_yaml == as_json
    store = f"sqlite:///{tmp_path / 'o.db'}"
    assert await served(Settings(store_url=store, identity_mode="gateway")) == as_json
    jwt = Settings(
        store_url=store,
        identity_mode="jwt",
        jwt_issuer="https://issuer.example",
        jwt_audience="orders-client",
    )
    assert await served(jwt) == as_json
    assert as_json["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
