"""Figures of a benchmark: samples, their median and spread, ratios against a baseline."""

from __future__ import annotations

import random
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
    paired: bool = False  # run by run samples: the median of per-run ratios, with its interval
    below: float | None = None  # paired: the interval's upper bound must also be below this


def ratio(figures: dict[str, Figure], figure: Figure) -> float | None:
    """The figure's median over its baseline's median (same section), if it has one."""
    if figure.baseline is None:
        return None
    base = figures.get(f"{figure.section}/{figure.baseline}")
    return None if base is None else figure.median / base.median


def paired_ratios(samples: list[float], base: list[float]) -> list[float]:
    """Per-run ratios of two figures measured in the same runs (interleaved)."""
    return [a / b for a, b in zip(samples, base, strict=True)]


def ratio_interval(ratios: list[float], rounds: int = 5000) -> tuple[float, float]:
    """Bootstrap 95 % interval of the median of per-run ratios (or of paired differences)."""
    rng = random.Random(16)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(rounds))
    return medians[int(rounds * 0.025)], medians[int(rounds * 0.975) - 1]


def base_of(figures: dict[str, Figure], target: Target) -> Figure | None:
    """The figure ``target`` divides by: ``against``, else the figure's baseline."""
    figure = figures.get(target.figure)
    if target.against is not None:
        return figures.get(target.against)
    if figure is None or figure.baseline is None:
        return None
    return figures.get(f"{figure.section}/{figure.baseline}")


def check(figures: dict[str, Figure], target: Target) -> tuple[float | None, bool]:
    figure = figures.get(target.figure)
    if figure is None:
        return None, False
    base = base_of(figures, target)
    if not target.ratio:
        value: float | None = figure.median
    elif base is None:
        value = None
    elif target.paired:
        ratios = paired_ratios(figure.samples, base.samples)
        value = statistics.median(ratios)
        if target.below is not None and ratio_interval(ratios)[1] >= target.below:
            return value, False
    else:
        value = figure.median / base.median
    if value is None:
        return None, False
    return value, value <= target.limit if target.op == "<=" else value >= target.limit
