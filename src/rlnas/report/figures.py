"""The report's plotly figures, built from stored runs.

plotly renders titles, legend names, tick labels and hover text as a subset of HTML, so every
string that comes from the user (experiment, decision and option names, metrics) goes through
``escape`` before it reaches a figure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from rlnas.report.runs import Run
from rlnas.rewards import pareto_front
from rlnas.store import StoredTrial

Figure = go.Figure
PALETTE = qualitative.Plotly
MANY_COLORS = qualitative.Dark24
"""For many lines in one plot (an entropy per decision): 24 distinct colours, then dashes."""
DASHES = ("solid", "dash", "dot", "dashdot")
LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 50}}


def _figure(title: str, x: str, y: str, height: int = 420) -> go.Figure:
    """An empty figure with escaped title and axis labels."""
    figure = go.Figure()
    figure.update_layout(
        title=escape(title), xaxis_title=escape(x), yaxis_title=escape(y), height=height, **LAYOUT
    )
    return figure


def _hover(run: Run, trial: StoredTrial) -> str:
    architecture = "<br>".join(
        f"{escape(str(name))} = {escape(str(option))}"
        for name, option in trial.architecture.items()
    )
    metrics = ", ".join(f"{escape(name)} = {value:.4g}" for name, value in trial.metrics.items())
    return f"{escape(run.name)} #{trial.number}<br>{metrics}<br>{architecture}"


def _by_metric(runs: Sequence[Run], title: str, x: str) -> tuple[go.Figure, dict[str, int]]:
    """A figure with one panel (its own y-axis) per metric the runs searched, and the panel's
    row for each metric: accuracy and an mse never share an axis."""
    metrics = list(dict.fromkeys(run.metric for run in runs)) or ["reward"]
    directions = {run.metric: run.direction for run in runs}
    figure = make_subplots(
        rows=len(metrics),
        cols=1,
        vertical_spacing=min(0.12, 0.3 / len(metrics)),
        subplot_titles=[escape(f"{m} ({directions.get(m, 'maximize')})") for m in metrics],
    )
    figure.update_layout(title=escape(title), height=120 + 320 * len(metrics), **LAYOUT)
    for row, metric in enumerate(metrics, start=1):
        figure.update_yaxes(title_text=escape(metric), row=row, col=1)
    figure.update_xaxes(title_text=escape(x), row=len(metrics), col=1)
    return figure, {metric: row for row, metric in enumerate(metrics, start=1)}


def trajectory_by_trial(runs: Sequence[Run]) -> go.Figure:
    """Each trial's metric (dots) and the incumbent's, the best so far (line), in the metric's
    own units; one panel per metric."""
    figure, rows = _by_metric(runs, "Searched metric per trial and the best so far", "trial")
    for index, run in enumerate(runs):
        points = run.metric_incumbents()
        group = escape(run.name)
        color = PALETTE[index % len(PALETTE)]
        row = rows[run.metric]
        figure.add_scatter(
            x=[t.number for t, _, _ in points],
            y=[value for _, value, _ in points],
            mode="markers",
            marker={"size": 5, "opacity": 0.5, "color": color},
            name=f"{group}: {escape(run.metric)}",
            legendgroup=group,
            hovertext=[_hover(run, t) for t, _, _ in points],
            hoverinfo="text",
            row=row,
            col=1,
        )
        figure.add_scatter(
            x=[t.number for t, _, _ in points],
            y=[best for _, _, best in points],
            mode="lines",
            line={"shape": "hv", "width": 2, "color": color},
            name=f"{group}: incumbent",
            legendgroup=group,
            row=row,
            col=1,
        )
    return figure


def incumbent_by_time(runs: Sequence[Run]) -> go.Figure:
    """The incumbent's metric against wall time since each experiment's first trial started."""
    figure, rows = _by_metric(runs, "Best so far over wall time", "seconds since the first trial")
    for index, run in enumerate(runs):
        points = run.metric_incumbents()
        figure.add_scatter(
            x=[run.elapsed_s(t) for t, _, _ in points],
            y=[best for _, _, best in points],
            mode="lines+markers",
            marker={"size": 4},
            line={"shape": "hv", "color": PALETTE[index % len(PALETTE)]},
            name=escape(run.name),
            hovertext=[_hover(run, t) for t, _, _ in points],
            hoverinfo="text+y",
            row=rows[run.metric],
            col=1,
        )
    return figure


def pareto(runs: Sequence[Run], cost: str) -> go.Figure:
    """Metric against ``cost`` for every complete trial, with each run's Pareto front as a line.

    Runs whose trials do not report ``cost`` are left out (their colour stays reserved).
    """
    metrics = {run.metric for run in runs if cost in run.costs()}
    metric = metrics.pop() if len(metrics) == 1 else "metric"
    figure = _figure(f"Pareto front: {metric} vs {cost}", cost, metric)
    for index, run in enumerate(runs):
        trials = [t for t in run.complete if cost in t.metrics and run.metric in t.metrics]
        if not trials:
            continue
        points = [(t.metrics[run.metric], t.metrics[cost]) for t in trials]
        front = sorted(pareto_front(points, run.direction), key=lambda i: points[i][1])
        group = escape(run.name)
        color = PALETTE[index % len(PALETTE)]
        figure.add_scatter(
            x=[cost_ for _, cost_ in points],
            y=[value for value, _ in points],
            mode="markers",
            marker={"size": 5, "opacity": 0.35, "color": color},
            name=f"{group}: trials",
            legendgroup=group,
            hovertext=[_hover(run, t) for t in trials],
            hoverinfo="text",
        )
        figure.add_scatter(
            x=[points[i][1] for i in front],
            y=[points[i][0] for i in front],
            mode="lines+markers",
            line={"shape": "hv", "color": color},
            marker={"size": 8, "color": color},
            name=f"{group}: front",
            legendgroup=group,
            hovertext=[_hover(run, trials[i]) for i in front],
            hoverinfo="text",
        )
    if cost in ("params", "flops"):
        figure.update_xaxes(type="log")
    return figure


def diagnostics(run: Run) -> list[go.Figure]:
    """The figures for what ``run``'s strategy reported of itself; none when it reported nothing."""
    reports = [(number, _readable(d)) for number, d in run.diagnostics()]
    if not reports:
        return []
    figures = []
    if any("entropy" in d for _, d in reports):
        figures.append(_entropy(run, reports))
    for key, title in (("probabilities", "action probabilities"), ("q_values", "Q-values")):
        if any(key in d for _, d in reports):
            figures.append(_per_option(run, reports, key, title))
    scalars = [k for k in ("baseline", "value", "predicted") if any(k in d for _, d in reports)]
    if scalars:
        figures.append(_scalars(run, reports, scalars, "Baseline and value estimates", "reward"))
    for key, title in (
        ("epsilon", "Exploration rate ε"),
        ("model_error", "Reward model error"),
        ("model_quality", "Reward model quality (out-of-sample Kendall tau)"),
    ):
        if any(key in d for _, d in reports):
            figures.append(_scalars(run, reports, [key], title, key, with_reward=False))
    return figures


def _readable(diagnostics: Mapping[str, Any]) -> dict[str, Any]:
    """The diagnostics in the documented shapes; a single entropy becomes {"policy": value}.

    Values of another shape are dropped rather than failing the whole report.
    """
    readable: dict[str, Any] = {}
    entropy = diagnostics.get("entropy")
    if _is_number(entropy):
        entropy = {"policy": entropy}
    if isinstance(entropy, Mapping):
        readable["entropy"] = {k: v for k, v in entropy.items() if _is_number(v)}
    for key in ("probabilities", "q_values"):
        if isinstance(diagnostics.get(key), Mapping):
            readable[key] = {
                name: [v if _is_number(v) else None for v in values]
                for name, values in diagnostics[key].items()
                if isinstance(values, list) and values
            }
    for key in ("baseline", "value", "predicted", "epsilon", "model_error", "model_quality"):
        if _is_number(diagnostics.get(key)):
            readable[key] = diagnostics[key]
    return {key: value for key, value in readable.items() if value != {}}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _entropy(run: Run, reports: list[tuple[int, Mapping[str, Any]]]) -> go.Figure:
    figure = _figure(f"{run.name}: policy entropy per decision", "trial", "entropy (nats)")
    decisions = dict.fromkeys(name for _, d in reports for name in d.get("entropy", {}))
    for index, decision in enumerate(decisions):
        numbers = [n for n, d in reports if decision in d.get("entropy", {})]
        values = [d["entropy"][decision] for n, d in reports if decision in d.get("entropy", {})]
        color, dash = MANY_COLORS[index % len(MANY_COLORS)], DASHES[index // len(MANY_COLORS) % 4]
        figure.add_scatter(
            x=numbers,
            y=values,
            mode="lines",
            line={"color": color, "dash": dash},
            name=escape(str(decision)),
        )
    return figure


def _per_option(
    run: Run, reports: list[tuple[int, Mapping[str, Any]]], key: str, title: str
) -> go.Figure:
    """One heat map per decision: trial on x, option on y, the reported number as colour."""
    decisions = list(dict.fromkeys(name for _, d in reports for name in d.get(key, {})))
    figure = make_subplots(
        rows=len(decisions),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=min(0.08, 0.3 / max(1, len(decisions))),
        subplot_titles=[escape(str(decision)) for decision in decisions],
    )
    for row, decision in enumerate(decisions, start=1):
        series = [(n, d[key][decision]) for n, d in reports if decision in d.get(key, {})]
        count = max(len(values) for _, values in series)
        options = [escape(o) for o in run.option_names(str(decision), count)]
        matrix = [
            [values[i] if i < len(values) else None for _, values in series] for i in range(count)
        ]
        figure.add_heatmap(
            x=[n for n, _ in series],
            y=options,
            z=matrix,
            coloraxis="coloraxis",
            hovertemplate="trial %{x}<br>%{y}: %{z:.3g}<extra></extra>",
            row=row,
            col=1,
        )
        figure.update_yaxes(type="category", autorange="reversed", row=row, col=1)
    colors: dict[str, Any] = {"colorscale": "Viridis", "colorbar": {"title": {"text": "p"}}}
    if key == "probabilities":
        colors.update(cmin=0.0, cmax=1.0)
    else:
        colors["colorbar"] = {"title": {"text": "Q"}}
    figure.update_layout(
        title=escape(f"{run.name}: {title} per decision over trials"),
        height=120 + 170 * len(decisions),
        coloraxis=colors,
        **LAYOUT,
    )
    figure.update_xaxes(title_text="trial", row=len(decisions), col=1)
    return figure


def _scalars(
    run: Run,
    reports: list[tuple[int, Mapping[str, Any]]],
    keys: list[str],
    title: str,
    y: str,
    with_reward: bool = True,
) -> go.Figure:
    figure = _figure(f"{run.name}: {title}", "trial", y)
    if with_reward:
        complete = run.complete
        figure.add_scatter(
            x=[t.number for t in complete],
            y=[t.reward for t in complete],
            mode="markers",
            marker={"size": 4, "opacity": 0.4, "color": "#999"},
            name="reward",
        )
    for key in keys:
        series = [(n, d[key]) for n, d in reports if key in d]
        figure.add_scatter(
            x=[n for n, _ in series], y=[v for _, v in series], mode="lines", name=escape(key)
        )
    return figure


def to_script_json(figure: go.Figure) -> str:
    """The figure as JSON that is safe inside an HTML <script> element (no <, >, & in it)."""
    text = json.dumps(json.loads(figure.to_json()), separators=(",", ":"))  # ASCII only
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, code)
    return text
