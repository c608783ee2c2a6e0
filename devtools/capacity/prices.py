"""The pinned prices and quotas (``prices.toml``): each figure with its source and read date."""

from __future__ import annotations

import datetime
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).with_name("prices.toml")


@dataclass(frozen=True, slots=True)
class Figure:
    """One price or quota: its value, unit, the page it comes from and when that was read."""

    value: float
    unit: str
    source: str
    read: datetime.date


@dataclass(frozen=True, slots=True)
class Prices:
    """Every figure of the file by name; ``prices[name]`` is the value alone."""

    region: str
    figures: dict[str, Figure]

    def __getitem__(self, name: str) -> float:
        return self.figures[name].value

    @classmethod
    def load(cls, path: Path = PRICES_FILE) -> Prices:
        """Read and check the file: a figure without a value, an https source or a date fails."""
        data = tomllib.loads(path.read_text())
        region = data.pop("region", None)
        if not isinstance(region, str):
            raise ValueError(f"{path.name}: no region")
        return cls(region, {name: _figure(name, raw) for name, raw in data.items()})

    def cited(self) -> dict[str, dict[str, Any]]:
        """The figures as JSON-ready records (for the report)."""
        return {
            name: {"value": f.value, "unit": f.unit, "source": f.source, "read": f.read.isoformat()}
            for name, f in self.figures.items()
        }


def _figure(name: str, raw: Any) -> Figure:
    if not isinstance(raw, dict):
        raise ValueError(f"prices: {name} is not a table")
    value, source, read = raw.get("value"), raw.get("source"), raw.get("read")
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ValueError(f"prices: {name} has no value")
    if not isinstance(source, str) or not source.startswith("https://"):
        raise ValueError(f"prices: {name} has no https source")
    try:
        date = datetime.date.fromisoformat(str(read))
    except ValueError:
        raise ValueError(f"prices: {name} has no date it was read (YYYY-MM-DD)") from None
    return Figure(float(value), str(raw.get("unit", "")), source, date)
