"""One source per figure: a measured size (a decimal number of bytes, such as 4.48 MiB) is
written in docs/performance.md, dated, beside the command that measured it, and nowhere else
(README, other docs, code comments), so that two copies cannot disagree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "docs" / "performance.md"
# Limits and quotas are whole numbers (5 MiB, 6 MB, 64 KiB); measurements have decimals.
MEASURED_SIZE = re.compile(r"\b\d+\.\d+ ?(?:[KMG]i?B)\b(?!/s)")


def written() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for folder in ("app", "infra", "devtools", "bench"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def test_measured_sizes_are_written_in_the_performance_docs_only() -> None:
    elsewhere = {
        f"{path.relative_to(ROOT)}: {match}"
        for path in written()
        if path != SOURCE
        for match in MEASURED_SIZE.findall(path.read_text(encoding="utf-8"))
    }
    assert not elsewhere
    assert MEASURED_SIZE.search(SOURCE.read_text(encoding="utf-8"))


def test_the_performance_docs_date_their_runs_and_name_the_commands() -> None:
    text = SOURCE.read_text(encoding="utf-8")
    assert re.search(r"Latest run: `make bench` .*\(\d{4}-\d\d-\d\d;", text)
    assert re.search(r"Measured on \d{4}-\d\d-\d\d apart from `make bench`", text)
    assert "uv pip install --target out" in text
