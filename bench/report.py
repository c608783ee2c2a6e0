"""The run's table (stdout, Markdown) and chart (PNG bars with min–max whiskers)."""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path

from bench import warm_cost
from bench.stats import Figure, Target, base_of, check, paired_ratios, ratio, ratio_interval

TARGETS = (
    Target("cold start ≤ 1.0 × Powertools+boto3", "cold start/orders", 1.0, "<="),
    Target("cold start ≤ 0.5 × FastAPI+Mangum+boto3", "cold start/orders", 0.5, "<=",
           against="cold start/fastapi+mangum+boto3"),
    Target("cold start ≤ 1.40 × FastAPI+Mangum hello (paired)", "cold start/orders", 1.40, "<=",
           against="cold start/hello fastapi+mangum", paired=True),
    Target("SnapStart restore → first response ≤ 0.8 × Powertools+boto3, CI below 1.0 (paired)",
           "SnapStart/orders: SnapStart restore → first response", 0.8, "<=", paired=True,
           below=1.0),
    Target("SnapStart restore → first response, function CPU ≤ 1.0 × Powertools+boto3 (paired)",
           "SnapStart/orders: SnapStart restore → first response, function CPU", 1.0, "<=",
           paired=True),
    Target("warm GET /hi ≤ 1.35 × FastAPI+Mangum hello", "warm invocation/orders GET /hi", 1.35,
           "<="),
    *warm_cost.TARGETS,
    Target("local GET /hi ≥ 0.9 × minimal FastAPI (asyncio+h11)",
           "local throughput/orders GET /hi [asyncio+h11]", 0.9, ">="),
    Target("local GET /hi ≥ 0.9 × minimal FastAPI (uvloop+httptools)",
           "local throughput/orders GET /hi [uvloop+httptools]", 0.9, ">="),
    Target("uvloop+httptools GET /hi ≥ 10,000 req/s",
           "local throughput/orders GET /hi [uvloop+httptools]", 10_000, ">=", ratio=False),
    Target("1,000 concurrent greetings ≤ 3.5 s (asyncio+h11)",
           "1,000 concurrent greetings/orders [asyncio+h11]", 3.5, "<=", ratio=False),
    Target("1,000 concurrent greetings ≤ 3.5 s (uvloop+httptools)",
           "1,000 concurrent greetings/orders [uvloop+httptools]", 3.5, "<=", ratio=False),
    Target("bundle ≤ 5 MiB zipped", "bundle size/arm64 asset zipped", 5.0, "<=", ratio=False),
)  # fmt: skip


def machine() -> str:
    """Cores, CPU model and the Pythons used, for the report's header."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    from bench.bundles import python313

    lambda_python = subprocess.run(  # noqa: S603
        [python313(), "-I", "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    import os

    return (
        f"{os.cpu_count()} cores, {model}, {platform.machine()} Linux; "
        f"Python {platform.python_version()} (bench, uvicorn), {lambda_python} (Lambda bundle)"
    )


def _fmt(value: float, unit: str) -> str:
    if unit in ("req/s", "µs") or value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def rows(figures: Sequence[Figure]) -> list[list[str]]:
    by_key = {f.key: f for f in figures}
    table = []
    for f in figures:
        r = ratio(by_key, f)
        spread = "–" if len(f.samples) < 2 else f"{_fmt(f.low, f.unit)}–{_fmt(f.high, f.unit)}"
        table.append([
            f.section, f.name, f"{_fmt(f.median, f.unit)} {f.unit}", spread,
            "–" if len(f.samples) < 2 else _fmt(f.p90, f.unit), str(len(f.samples)),
            "–" if r is None else f"{r:.2f} × {f.baseline}", f.note,
        ])  # fmt: skip
    return table


# grey bars: baselines and floors
BASELINES = ("hello", "fastapi+", "powertools+", "bare ", "python ")
HEADER = ["section", "variant", "median", "min–max", "p90", "n", "ratio", "note"]


def target_lines(figures: Sequence[Figure]) -> list[str]:
    by_key = {f.key: f for f in figures}
    lines = []
    for target in TARGETS:
        if target.figure not in by_key:
            continue  # its section did not run (``--only``)
        value, met = check(by_key, target)
        if value is None:
            shown = "not measured"
        elif target.paired and len(by_key[target.figure].samples) > 1:
            figure, base = by_key[target.figure], base_of(by_key, target)
            assert base is not None
            low, high = ratio_interval(paired_ratios(figure.samples, base.samples))
            shown = f"{value:.2f} × (median of per-run ratios, 95 % CI {low:.2f}–{high:.2f})"
        elif target.ratio:
            shown = f"{value:.2f} ×"
        else:
            unit = by_key[target.figure].unit
            shown = f"{_fmt(value, unit)} {unit}"
        lines.append(f"{'met ' if met else 'MISSED'}  {target.label}: {shown}")
    return lines


def markdown(figures: Sequence[Figure], title: str, chart: str | None) -> str:
    out = [f"# {title}", "", f"Machine: {machine()}.", ""]
    out += ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in rows(figures)]
    out += ["", "Targets (ratios from this run):", ""]
    out += [f"- {line}" for line in target_lines(figures)]
    if chart:
        out += ["", f"![benchmark chart]({chart})"]
    return "\n".join(out) + "\n"


def text_table(figures: Sequence[Figure]) -> str:
    table = [HEADER, *rows(figures)]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in table]
    return "\n".join([*lines, "", *target_lines(figures)])


def chart(figures: Sequence[Figure], path: Path) -> None:
    """One panel per section and unit: median bars, min–max whiskers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # One panel per section and unit (a section may mix them: ms, USD and MB in warm cost).
    panels = list(dict.fromkeys((f.section, f.unit) for f in figures))
    bars = [sum((f.section, f.unit) == panel for f in figures) for panel in panels]
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(10, 0.38 * sum(bars) + 0.9 * len(panels)),
        gridspec_kw={"height_ratios": [n + 1.5 for n in bars]},  # bars keep one thickness
        squeeze=False,  # one section (``--only``) still gives a column of axes
    )
    for ax, (section, unit) in zip(axes[:, 0], panels, strict=True):
        group = [f for f in figures if (f.section, f.unit) == (section, unit)]
        medians = [f.median for f in group]
        errors = [[f.median - f.low for f in group], [f.high - f.median for f in group]]
        colors = ["#aaaaaa" if f.name.startswith(BASELINES) else "#4c72b0" for f in group]
        ax.barh([f.name for f in group], medians, xerr=errors, color=colors, capsize=3)
        ax.invert_yaxis()
        ax.set_title(
            f"{section} ({group[0].unit}; {group[0].better} is better)",
            fontsize=10,
        )
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80, bbox_inches="tight")  # long labels stay whole
    plt.close(fig)
