"""A comparison's files: summary and curves as CSV, the curves as an inline-SVG page, JSON.

The HTML needs nothing from the network: the chart is drawn as SVG by hand, a few lines of
polylines and ticks, so ``rlnas compare`` works without the ``report`` extra.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

from rlnas.compare.runs import Comparison


def write_outputs(comparison: Comparison, out_dir: str | Path) -> list[Path]:
    """Write summary.csv, curves.csv, curves.html (an inline SVG chart) and comparison.json."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = comparison.results
    summary = out / "summary.csv"
    with summary.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["strategy", *_NUMBERS, "seeds", "budget"])
        for name, numbers in comparison.to_json()["results"].items():
            row = [numbers[key] for key in _NUMBERS]
            writer.writerow([name, *row, comparison.seeds, comparison.budget])
    curves = out / "curves.csv"
    with curves.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query", *results])
        for query in range(comparison.budget):
            writer.writerow([query + 1, *(s.curve[query] for s in results.values())])
    chart = out / "curves.html"
    chart.write_text(curves_html(comparison))
    as_json = out / "comparison.json"
    as_json.write_text(json.dumps(comparison.to_json(), indent=1) + "\n")
    return [summary, curves, chart, as_json]


_NUMBERS = (
    "regret_mean",
    "regret_std",
    "test_regret_mean",
    "test_regret_std",
    "queries_to_top1pct",
)
_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
_COLORS += ("#bcbd22", "#17becf")


def curves_html(comparison: Comparison) -> str:
    """A self-contained HTML page: the anytime regret curves as an inline SVG line chart."""
    title = (
        f"Mean validation regret of the incumbent on {comparison.benchmark} "
        f"({comparison.seeds} seeds)"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<title>{escape(title)}</title></head>\n<body style="font-family: sans-serif">\n'
        f'<h1 style="font-size: 1.1em">{escape(title)}</h1>\n'
        f"{_svg_chart({k: s.curve for k, s in comparison.results.items()})}\n</body></html>\n"
    )


def _svg_chart(curves: Mapping[str, Sequence[float]], width: int = 760, height: int = 420) -> str:
    left, right, top, bottom = 64, 150, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    budget = max(len(curve) for curve in curves.values())
    y_max = max((max(curve) for curve in curves.values()), default=0.0) or 1.0
    y_ticks = _ticks(y_max)
    if y_ticks[-1] < y_max:
        y_ticks.append(2 * y_ticks[-1] - y_ticks[-2] if len(y_ticks) > 1 else y_max)
    y_top = y_ticks[-1]

    def x(query: float) -> float:
        return left + plot_w * (query - 1) / max(budget - 1, 1)

    def y(value: float) -> float:
        return top + plot_h * (1 - value / y_top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="12">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#888"/>',
    ]
    for tick in y_ticks:
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{tick:.3g}</text>'
        )
    for tick in _ticks(budget, start=1):
        parts.append(
            f'<text x="{x(tick):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{tick:g}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">distinct queries'
        f'</text><text transform="translate(14 {top + plot_h / 2}) rotate(-90)" '
        'text-anchor="middle">validation regret</text>'
    )
    for index, (name, curve) in enumerate(curves.items()):
        color = _COLORS[index % len(_COLORS)]
        points = " ".join(f"{x(q):.1f},{y(v):.1f}" for q, v in enumerate(curve, start=1))
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="1.8" points="{points}">'
            f"<title>{escape(name)}</title></polyline>"
        )
        legend_y = top + 14 + 18 * index
        parts.append(
            f'<line x1="{left + plot_w + 12}" x2="{left + plot_w + 36}" y1="{legend_y - 4}" '
            f'y2="{legend_y - 4}" stroke="{color}" stroke-width="3"/>'
            f'<text x="{left + plot_w + 42}" y="{legend_y}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _ticks(high: float, start: float = 0.0, count: int = 5) -> list[float]:
    """About ``count`` round tick values from ``start`` up to ``high``."""
    span = max(high - start, 1e-12)
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(start / step) * step
    ticks = [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]
    return ticks or [start]
