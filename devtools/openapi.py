"""Writes the OpenAPI document to files a client generator reads: ``make openapi``.

The document is the deployed API's: the Lambda handler's (API Gateway's verified identity), so
every private operation demands a bearer token and may answer 401. ``IDENTITY_MODE=jwt`` serves
the same document; ``make run`` (``dev``) serves it without the security scheme. Written as JSON
and as YAML, in the app's key order; tests/api/test_openapi_export.py keeps the committed copies
identical to what the app serves.

    python -m devtools.openapi              # docs/openapi.json and docs/openapi.yaml
    python -m devtools.openapi --out <dir>
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from app.config import Settings
from app.main import create_app

DEFAULT_FOLDER = Path(__file__).resolve().parents[1] / "docs"
NAMES = ("openapi.json", "openapi.yaml")


def document() -> dict[str, Any]:
    """The OpenAPI document of the deployed API (no store is opened)."""
    settings = Settings(store_url="sqlite:///:memory:", identity_mode="gateway")
    return create_app(settings).openapi()


def as_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def as_yaml(doc: dict[str, Any]) -> str:
    dumped: str = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return dumped


def rendered(doc: dict[str, Any]) -> dict[str, str]:
    """Each file's name and text."""
    return dict(zip(NAMES, (as_json(doc), as_yaml(doc)), strict=True))


def main(argv: list[str] | None = None) -> None:
    """Write ``openapi.json`` and ``openapi.yaml`` into the folder ``--out`` names."""
    parser = argparse.ArgumentParser(
        prog="python -m devtools.openapi",
        description="Write the API's OpenAPI document as JSON and YAML (for client generators).",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_FOLDER,
        help=f"folder to write openapi.json and openapi.yaml into (default: {DEFAULT_FOLDER})",
    )
    out: Path = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    for name, text in rendered(document()).items():
        (out / name).write_text(text, encoding="utf-8")
        print(out / name)


if __name__ == "__main__":
    main()
