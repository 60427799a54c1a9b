"""Reports on stored searches: an HTML report, trajectories for offline RL, live trial logging.

plotly (for the HTML report), pyarrow (for .parquet) and tensorboard or mlflow (for logging) are
optional: each is imported only when its feature is used, and its absence is a UserError that
says what to install.
"""

from rlnas.report.drawing import architecture_svg
from rlnas.report.html import render_report, write_report
from rlnas.report.runs import Run, load_runs
from rlnas.report.tracking import make_logger
from rlnas.report.trajectories import export_trajectories, trajectory_rows

__all__ = [
    "Run",
    "architecture_svg",
    "export_trajectories",
    "load_runs",
    "make_logger",
    "render_report",
    "trajectory_rows",
    "write_report",
]
