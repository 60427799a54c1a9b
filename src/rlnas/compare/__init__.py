"""Compare search strategies on a tabular benchmark over many seeds, judged by the whole table.

``regret`` scores one run against the table; ``runs`` runs contenders x seeds and summarizes
them; ``outputs`` writes the tables, curves and JSON that ``rlnas compare`` prints.
"""

from rlnas.compare.outputs import curves_html, write_outputs
from rlnas.compare.regret import TOP_FRACTION, Run, score_run
from rlnas.compare.runs import (
    REPEATS_BEFORE_STOP,
    Comparison,
    Contender,
    StrategySummary,
    compare,
    run_contender,
)

__all__ = [
    "REPEATS_BEFORE_STOP",
    "TOP_FRACTION",
    "Comparison",
    "Contender",
    "Run",
    "StrategySummary",
    "compare",
    "curves_html",
    "run_contender",
    "score_run",
    "write_outputs",
]
