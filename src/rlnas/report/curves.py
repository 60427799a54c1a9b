"""The learning curves of a scheduled search: every candidate's metric by epoch, to its rung.

A scheduler (``rlnas.schedulers``) stores each trial's validation metric after every epoch and
the rung it reached. Drawn together, the curves show where weak candidates were stopped (grey,
ending at their rung) and how the promoted ones went on (coloured, to the last epoch).
"""

from __future__ import annotations

from html import escape

import plotly.graph_objects as go

from rlnas.report.figures import PALETTE, _figure, _hover
from rlnas.report.runs import Run

PRUNED_COLOR = "rgba(120, 120, 120, 0.45)"


def scheduled(run: Run) -> bool:
    """Whether ``run`` stored learning curves (a scheduler ran)."""
    return any(trial.curve for trial in run.trials)


def learning_curves(run: Run, index: int = 0) -> go.Figure:
    """Each trial's curve by epoch, pruned ones grey; dotted lines at the rungs reached."""
    figure = _figure(f"Learning curves and rungs: {run.name}", "epoch", run.metric)
    color = PALETTE[index % len(PALETTE)]
    for trial in run.trials:
        if not trial.curve:
            continue
        pruned = trial.status == "pruned"
        epochs = list(range(1, len(trial.curve) + 1))
        figure.add_scatter(
            x=epochs,
            y=list(trial.curve),
            mode="lines+markers",
            line={"width": 1 if pruned else 2, "color": PRUNED_COLOR if pruned else color},
            marker={"size": [0] * (len(epochs) - 1) + [7]},
            name=f"#{trial.number} {escape(trial.status)} at rung {trial.rung}",
            legendgroup=trial.status,
            showlegend=False,
            hovertext=_hover(run, trial),
            hoverinfo="text",
        )
    for epochs in sorted({len(trial.curve) for trial in run.trials if trial.curve}):
        figure.add_vline(x=epochs, line={"dash": "dot", "width": 1, "color": "#999"})
    return figure
