"""Bundle size: the arm64 Lambda asset (infra/asset.py), unzipped and zipped (deflate)."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from bench.bundles import arm64_bundle
from bench.stats import Figure

SECTION = "bundle size"
MIB = 1024 * 1024


def run() -> list[Figure]:
    bundle = arm64_bundle()
    files = sorted(p for p in bundle.rglob("*") if p.is_file())
    unzipped = sum(p.stat().st_size for p in files)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "asset.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                zf.write(path, path.relative_to(bundle).as_posix())
        zipped = archive.stat().st_size
    note = f"{len(files)} files"
    return [
        Figure(SECTION, "arm64 asset zipped", "MiB", [zipped / MIB], note=note),
        Figure(SECTION, "arm64 asset unzipped", "MiB", [unzipped / MIB], note=note),
    ]
