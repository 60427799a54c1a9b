"""Stored experiments as the report sees them: the experiment, its trials, and their incumbents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from rlnas.errors import StoreError
from rlnas.store import Experiment, Store, StoredTrial
from rlnas.trial import Status, best_first

COST_METRICS = ("params", "flops", "latency_ms", "latency")
"""Metrics that measure what an architecture costs; the report draws a Pareto front per cost."""


@dataclass(frozen=True)
class Run:
    """One experiment and its trials in the order they were evaluated."""

    experiment: Experiment
    trials: tuple[StoredTrial, ...]

    @property
    def name(self) -> str:
        return self.experiment.name

    @property
    def metric(self) -> str:
        return str(self.experiment.config.get("metric", "reward"))

    @property
    def direction(self) -> str:
        return str(self.experiment.config.get("direction", "maximize"))

    @property
    def space_name(self) -> str:
        return str(self.experiment.config.get("space", ""))

    @property
    def complete(self) -> list[StoredTrial]:
        """The trials with a reward of their own (a pruned trial's is an estimate)."""
        return [t for t in self.trials if t.reward is not None and t.status != Status.PRUNED]

    def best(self, top: int) -> list[StoredTrial]:
        """The ``top`` complete trials, highest reward first (the earlier one wins a tie)."""
        return sorted(self.complete, key=best_first)[:top]

    @property
    def scheduled(self) -> bool:
        """Whether a scheduler decided how far each candidate trained (it stores rungs)."""
        return "scheduler" in self.experiment.config or any(
            trial.rung is not None for trial in self.trials
        )

    def counts(self) -> dict[str, int]:
        """Trials per status: complete, pruned, failed, rejected."""
        return {
            str(status): sum(trial.status == status for trial in self.trials) for status in Status
        }

    def value(self, trial: StoredTrial) -> float | None:
        """The searched metric of ``trial`` in its own units (None where it has none)."""
        return trial.metrics.get(self.metric)

    def metric_incumbents(self) -> list[tuple[StoredTrial, float, float]]:
        """Each complete trial that reports the metric, its value and the value of the best
        trial up to and including it (the best by the search's rule, shown in the metric's
        units)."""
        best = None
        points = []
        for trial in self.complete:
            if self.metric not in trial.metrics:
                continue
            if best is None or (trial.reward or 0.0) > (best.reward or 0.0):
                best = trial
            points.append((trial, trial.metrics[self.metric], best.metrics[self.metric]))
        return points

    def incumbents(self) -> list[tuple[StoredTrial, float]]:
        """Each complete trial with the best reward seen up to and including it."""
        best = None
        points = []
        for trial in self.complete:
            best = trial.reward if best is None else max(best, trial.reward or best)
            points.append((trial, best))
        return points

    @cached_property
    def started_at(self) -> float:
        """When the first trial started (0 for an experiment without trials)."""
        return min((trial.started_at for trial in self.trials), default=0.0)

    def elapsed_s(self, trial: StoredTrial) -> float:
        """Seconds from the start of the first trial to the end of ``trial``."""
        return trial.started_at + trial.duration_s - self.started_at

    def diagnostics(self) -> list[tuple[int, Mapping[str, Any]]]:
        """(trial number, diagnostics) for every trial whose strategy reported any."""
        return [(trial.number, trial.diagnostics) for trial in self.trials if trial.diagnostics]

    def costs(self) -> list[str]:
        """The cost metrics that at least one complete trial reports."""
        return [c for c in COST_METRICS if any(c in trial.metrics for trial in self.complete)]

    def option_names(self, decision: str, count: int) -> list[str]:
        """Names of a decision's options in the space's order, for labelling per-option plots.

        The experiment config may list them (``decisions``: {name: [options]}); NAS-Bench-Graph
        spaces are rebuilt from their name; otherwise the options are numbered.
        """
        listed = self.experiment.config.get("decisions", {})
        if isinstance(listed, Mapping) and len(listed.get(decision, ())) == count:
            return [str(option) for option in listed[decision]]
        if self.space_name.startswith("nbg:"):
            from rlnas.space.nas_bench_graph import LINKS, operations

            options = LINKS if decision == "link" else operations(self.space_name[4:])
            if len(options) == count:
                return list(options)
        return [f"option {index}" for index in range(count)]


def load_runs(store: str | Path, names: Sequence[str] = ()) -> list[Run]:
    """The experiments called ``names`` (all of them, oldest first, when none is given)."""
    path = Path(store)
    if not path.is_file():
        raise StoreError(f"store {path} does not exist; run `rlnas search --store {path}` first")
    with Store(path, read_only=True) as opened:
        if names:
            experiments = [opened.experiment(name) for name in dict.fromkeys(names)]
        else:
            experiments = opened.experiments()
        if not experiments:
            raise StoreError(f"store {path} holds no experiment yet; run `rlnas search` first")
        return [Run(experiment, tuple(opened.trials(experiment))) for experiment in experiments]
