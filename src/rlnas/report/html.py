"""``rlnas report``: one self-contained HTML file about stored experiments.

plotly.js is inlined, so the file opens offline and can be mailed around. Sections: the
experiments, the search trajectory, the best architectures (table and drawing), the controllers'
diagnostics when strategies reported any, and a Pareto front for every cost metric that trials
report (params, flops, latency_ms, latency) — drawn whenever such a metric exists, constrained
run or not, since the trade-off is worth seeing either way. A search that inherits weights
adds its episodes as chains of growth (parent -> child, with the metric and how each started).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from rlnas.errors import UserError
from rlnas.report.drawing import architecture_svg, layer_summary
from rlnas.report.growth import chain_text, growth_chains, inherited
from rlnas.report.runs import COST_METRICS, Run, load_runs

PLOT_CONFIG = '{"responsive": true, "displaylogo": false}'
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.3rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; }
th { background: #f4f6f9; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.number { white-space: nowrap; } td.architecture { max-width: 32rem; }
.note { color: #666; } .plot { margin: 1rem 0; } svg.architecture { max-width: 100%; }
"""


def write_report(
    store: str | Path, output: str | Path, names: Sequence[str] = (), top: int = 10
) -> Path:
    """Write the report on the experiments ``names`` (all when empty) of ``store`` to ``output``."""
    output = Path(output)
    if not output.parent.is_dir():
        raise UserError(f"the folder of {output} does not exist; create it or choose another -o")
    runs = load_runs(store, names)
    output.write_text(render_report(runs, title=f"rlnas report: {Path(store).name}", top=top))
    return output


def render_report(runs: Sequence[Run], title: str = "rlnas report", top: int = 10) -> str:
    """The HTML text of the report on ``runs``."""
    try:
        from plotly.offline import get_plotlyjs

        from rlnas.report import curves, figures
    except ImportError:
        raise UserError(
            "the HTML report needs plotly: pip install 'rlnas[report]' (or pip install plotly)"
        ) from None
    page = _Page(figures.to_script_json)
    page.add(f"<h1>{escape(title)}</h1>")
    generated = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page.add(f'<p class="note">{len(runs)} experiment(s), generated {generated}.</p>')
    page.add("<h2>Experiments</h2>" + _experiments_table(runs))

    page.add("<h2>Search trajectory</h2>")
    page.plot(figures.trajectory_by_trial(runs))
    page.plot(figures.incumbent_by_time(runs))

    for index, run in enumerate(runs):
        if run.scheduled and curves.scheduled(run):
            page.add(
                f"<h3>{escape(run.name)}: rungs</h3><p class='note'>"
                f"{sum(t.status == 'pruned' for t in run.trials)} of {len(run.trials)} "
                "candidates stopped early (grey); each curve ends at the rung it reached.</p>"
            )
            page.plot(curves.learning_curves(run, index))

    for run in runs:
        if inherited(run.trials):
            chains = growth_chains(run.trials)
            items = "".join(f"<li>{escape(chain_text(c, run.metric))}</li>" for c in chains)
            page.add(
                f"<h3>{escape(run.name)}: chains of growth</h3><p class='note'>Each network "
                f"after the one it grew from: trial, {escape(run.metric)}, inherited or trained "
                f"from scratch.</p><ol class='growth'>{items}</ol>"
            )

    page.add(f"<h2>Best architectures</h2><p class='note'>The {top} best trials of each.</p>")
    for run in runs:
        page.add(f"<h3>{escape(run.name)}</h3>")
        best = run.best(top)
        if not best:
            page.add('<p class="note">No trial completed.</p>')
            continue
        page.add(architecture_svg(best[0].architecture, run.space_name))
        page.add(_best_table(run, best))

    finals = [run for run in runs if isinstance(run.experiment.config.get("final"), dict)]
    if finals:
        page.add(
            "<h2>Final training</h2><p class='note'>What <code>rlnas train-final</code> recorded: "
            "the trial retrained on training + validation rows, for how many epochs and why, "
            "and its score on the test rows, which the search never saw.</p>"
            + _finals_table(finals)
        )

    page.add("<h2>Controller diagnostics</h2>")
    shown = False
    for run in runs:
        plots = figures.diagnostics(run)
        if plots:
            shown = True
            page.add(f"<h3>{escape(run.name)}</h3>")
            for figure in plots:
                page.plot(figure)
    if not shown:
        page.add(
            '<p class="note">No strategy reported diagnostics (random search and evolution '
            "train no controller).</p>"
        )

    costs = [c for c in COST_METRICS if any(c in run.costs() for run in runs)]
    if costs:
        page.add(
            "<h2>Pareto front</h2><p class='note'>The searched metric against each cost the "
            "trials report; the line joins the trials no other trial beats on both.</p>"
        )
        for cost in costs:
            page.plot(figures.pareto(runs, cost))
    return page.html(title, get_plotlyjs())


class _Page:
    """Collects the body's HTML and the plots, numbered in the order they are added."""

    def __init__(self, to_json: Any) -> None:
        self.parts: list[str] = []
        self.to_json = to_json
        self.plots = 0

    def add(self, html: str) -> None:
        self.parts.append(html)

    def plot(self, figure: Any) -> None:
        self.plots += 1
        div = f"plot-{self.plots}"
        self.parts.append(
            f'<div class="plot" id="{div}"></div><script>(function () {{'
            f" var figure = {self.to_json(figure)};"
            f' Plotly.newPlot("{div}", figure.data, figure.layout, {PLOT_CONFIG}); }})();</script>'
        )

    def html(self, title: str, plotly_js: str) -> str:
        if "</script" in plotly_js.lower():
            raise RuntimeError("plotly.js holds '</script' and cannot be inlined as it is")
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title><style>{STYLE}</style>"
            f'<script type="text/javascript">{plotly_js}</script></head><body>'
            + "\n".join(self.parts)
            + "</body></html>\n"
        )


def _experiments_table(runs: Sequence[Run]) -> str:
    rows = []
    for run in runs:
        config = run.experiment.config
        best = run.best(1)
        counts = run.counts()
        value = run.value(best[0]) if best else None
        cells = [
            escape(run.name),
            escape(str(config.get("strategy", ""))),
            escape(run.space_name),
            escape(f"{run.metric} ({run.direction})"),
            escape(run.experiment.status),
            *(
                f"<td class='number'>{count}</td>"
                for count in (len(run.trials), *(counts[s] for s in STATUSES))
            ),
            "–" if value is None else format_number(value, run.metric),
        ]
        rows.append("<tr>" + "".join(_cell(cell) for cell in cells) + "</tr>")
    head = ("experiment", "strategy", "space", "metric", "status", "trials", *STATUSES, "best")
    return _table(head, rows)


STATUSES = ("complete", "pruned", "failed", "rejected")


def _cell(cell: str) -> str:
    return cell if cell.startswith("<td") else f"<td>{cell}</td>"


def _best_table(run: Run, best: Sequence[Any]) -> str:
    """Rank, trial, the network in one line, the metric, then the costs and training figures:
    formatted with their units, so ten rows fit a 1400 px window."""
    shown = [run.metric, *COST_METRICS, "epochs", "train_time_s"]
    metrics = [m for m in dict.fromkeys(shown) if any(m in trial.metrics for trial in best)]
    rows = []
    for rank, trial in enumerate(best, start=1):
        cells = [f"<td class='number'>{rank}</td>", f"<td class='number'>{trial.number}</td>"]
        cells.append(f"<td class='architecture'>{escape(layer_summary(trial.architecture))}</td>")
        cells += [
            f"<td class='number'>{format_number(trial.metrics[m], m)}</td>"
            if m in trial.metrics
            else "<td></td>"
            for m in metrics
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = ("rank", "trial", "network", *(_metric_heading(m) for m in metrics))
    return _table([escape(str(name)) for name in head], rows)


def _metric_heading(name: str) -> str:
    return {"latency_ms": "latency", "train_time_s": "training"}.get(name, name)


def _finals_table(runs: Sequence[Run]) -> str:
    rows = []
    for run in runs:
        final = run.experiment.config["final"]
        test = final.get("test", {})
        cells = [
            escape(run.name),
            f"<td class='number'>{escape(str(final.get('trial', '')))}</td>",
            f"<td class='number'>{escape(str(final.get('epochs', '')))}</td>",
            escape(str(final.get("epochs_chosen_by", ""))),
            escape(", ".join(f"{k} {format_number(v, k)}" for k, v in test.items())),
            escape(str(final.get("out", ""))),
        ]
        rows.append("<tr>" + "".join(_cell(cell) for cell in cells) + "</tr>")
    head = ("experiment", "trial", "epochs", "epochs chosen by", "test", "exported to")
    return _table(head, rows)


def format_number(value: float, name: str = "") -> str:
    """A number as a reader wants it: counts with k/M/G, times with their unit, the rest with
    4 significant digits (``6.03k`` params, ``0.226 ms``, ``1.4 s``, ``0.9123``)."""
    if name in ("params", "flops"):
        for divisor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= divisor:
                return f"{value / divisor:.3g}{suffix}"
        return f"{value:.0f}"
    if name.endswith("_ms") or name == "latency":
        return f"{value:.3g} ms"
    if name.endswith("_s"):
        return f"{value:.3g} s"
    if name == "epochs" and float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


def _table(head: Sequence[str], rows: Sequence[str]) -> str:
    header = "".join(f"<th>{cell}</th>" for cell in head)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
