"""Figures of a benchmark: samples, their median and spread, ratios against a baseline."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class Figure:
    """One measured quantity (``unit``) over repeated runs; ``better`` says which way wins."""

    section: str
    name: str
    unit: str
    samples: list[float] = field(default_factory=list)
    better: str = "lower"  # or "higher"
    baseline: str | None = None  # the name of the figure this one is compared with
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.section}/{self.name}"

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)

    @property
    def p90(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Target:
    """A goal: ``figure`` (ratio to its baseline, or absolute) ``op`` ``limit``."""

    label: str
    figure: str  # Figure.key
    limit: float
    op: str  # "<=" or ">="
    ratio: bool = True
    against: str | None = None  # a Figure.key to divide by instead of the figure's baseline


def ratio(figures: dict[str, Figure], figure: Figure) -> float | None:
    """The figure's median over its baseline's median (same section), if it has one."""
    if figure.baseline is None:
        return None
    base = figures.get(f"{figure.section}/{figure.baseline}")
    return None if base is None else figure.median / base.median


def check(figures: dict[str, Figure], target: Target) -> tuple[float | None, bool]:
    figure = figures.get(target.figure)
    if figure is None:
        return None, False
    if not target.ratio:
        value: float | None = figure.median
    elif target.against is not None:
        base = figures.get(target.against)
        value = None if base is None else figure.median / base.median
    else:
        value = ratio(figures, figure)
    if value is None:
        return None, False
    return value, value <= target.limit if target.op == "<=" else value >= target.limit
