"""The run's chart as a dependency-free SVG: latency percentiles and throughput per second.

SVG rather than matplotlib: matplotlib lives in the ``bench`` dependency group (tens of MB,
about a second to import), and ``make load`` should run wherever the app's own environment
does, a CI runner or a container included; two line plots need no plotting library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

WIDTH, PANEL, MARGIN = 760, 220, 56
COLOURS = {"p50": "#1f77b4", "p99": "#d62728", "sent": "#2ca02c", "completed": "#ff7f0e"}


def _panel(
    rows: Sequence[dict[str, Any]], keys: Sequence[str], top: int, title: str, unit: str
) -> list[str]:
    span = max((row["t"] for row in rows), default=1.0) or 1.0
    peak = max((float(row[k]) for row in rows for k in keys), default=0.0) or 1.0
    inner_w, inner_h = WIDTH - 2 * MARGIN, PANEL - 50

    def x(t: float) -> float:
        return MARGIN + inner_w * t / span

    def y(v: float) -> float:
        return top + 30 + inner_h * (1 - v / peak)

    parts = [
        f'<text x="{MARGIN}" y="{top + 18}" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{MARGIN}" y1="{y(0)}" x2="{WIDTH - MARGIN}" y2="{y(0)}" stroke="#999"/>',
        f'<line x1="{MARGIN}" y1="{y(0)}" x2="{MARGIN}" y2="{y(peak)}" stroke="#999"/>',
        f'<text x="{MARGIN - 4}" y="{y(peak) + 4}" text-anchor="end">{peak:.0f}</text>',
        f'<text x="{MARGIN - 4}" y="{y(0) + 4}" text-anchor="end">0</text>',
        f'<text x="{MARGIN - 4}" y="{y(peak) - 10}" text-anchor="end">{escape(unit)}</text>',
        f'<text x="{WIDTH - MARGIN}" y="{y(0) + 16}" text-anchor="end">{span:.0f} s</text>',
    ]
    for n, key in enumerate(keys):
        points = " ".join(f"{x(row['t']):.1f},{y(float(row[key])):.1f}" for row in rows)
        colour = COLOURS[key]
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>'
        )
        parts.append(
            f'<text x="{WIDTH - MARGIN - 90 * (len(keys) - n)}" y="{top + 18}" '
            f'fill="{colour}">{key}</text>'
        )
    return parts


def svg(rows: Sequence[dict[str, Any]], title: str) -> str:
    """Two panels over the run: p50/p99 latency (ms from the scheduled time) and requests sent
    and completed per second."""
    height = 2 * PANEL + 30
    body = [
        f'<text x="{MARGIN}" y="18" font-size="14">{escape(title)}</text>',
        *_panel(rows, ("p50", "p99"), 20, "latency of requests completed each second", "ms"),
        *_panel(rows, ("sent", "completed"), 20 + PANEL, "throughput", "req/s"),
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'font-family="sans-serif" font-size="11">\n'
        f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n"
    )
