"""The outside peers of the benchmarks: Optuna's samplers and local search, beside rlnas's own.

The objective trains a candidate one epoch at a time through ``TrainingEvaluator.train_to``
(continuing from the state the last epoch left, so nothing is trained twice), reports the
validation accuracy after each epoch and stops when the pruner says so. Every candidate is
written to an rlnas store like a scheduled search's trials, so ``train_final`` retrains the best
fully trained one exactly as it does for rlnas's searches. Without a pruner, ``TPEStrategy``
puts TPE behind rlnas's own ``Strategy`` interface, so ``rlnas.search`` runs it like any of its
strategies (same loop, budget, cache and store); ``GPStrategy`` does the same with Optuna's
``GPSampler``, and ``LocalSearch`` is the local search of White et al. (2021), the peers of
``tabular_strategies.py``.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlnas.errors import InvalidArchitecture
from rlnas.problems import ProblemSettings, load_problem
from rlnas.space import Architecture, SearchSpace
from rlnas.store import Store
from rlnas.strategies import Strategy
from rlnas.strategies.neighbours import neighbours
from rlnas.trial import Status, Trial

MAX_REPEATS = 200
"""Proposals in a row of known or invalid architectures after which a peer gives up."""
WORST = 0.0
"""The accuracy TPE is told for a combination the space forbids or a candidate that failed."""


@dataclass(frozen=True)
class Searched:
    """What a search spent: candidates started, those trained to the last epoch, epochs."""

    started: int
    fully_trained: int
    epochs: int


def optuna_search(
    task: str, method: str, seed: int, epochs: int, compute: int, store: Path
) -> Searched:
    """TPE with ``HyperbandPruner`` (``tpe+hyperband``) or ``MedianPruner`` (``tpe+median``),
    starting candidates until ``compute`` epochs are spent."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    problem = load_problem(ProblemSettings(task=task, epochs=epochs), seed)
    evaluator, space = problem.evaluate, problem.space
    if method == "tpe+hyperband":
        pruner = optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=epochs, reduction_factor=3
        )
    else:
        pruner = optuna.pruners.MedianPruner()
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner
    )
    known: dict[str, float] = {}
    spent = started = full = repeats = 0
    with Store(store) as opened:
        config = {**problem.context, "metric": "accuracy", "direction": "maximize"}
        experiment = opened.create_experiment("run", config, seed)
        while spent < compute and repeats < MAX_REPEATS:
            trial = study.ask()
            choices = {c.name: trial.suggest_categorical(c.name, c.options) for c in space.choices}
            try:
                architecture = space.architecture(choices)
            except InvalidArchitecture:
                study.tell(trial, 0.0)
                repeats += 1
                continue
            if architecture.key in known:
                study.tell(trial, known[architecture.key])
                repeats += 1
                continue
            repeats, started = 0, started + 1
            state, curve, metrics, status = None, [], {}, Status.COMPLETE
            for epoch in range(1, epochs + 1):
                try:
                    progress = evaluator.train_to(architecture, epoch, state)
                except Exception as error:  # a candidate that cannot train fails, as in rlnas
                    status, metrics = Status.FAILED, {"error": str(error)}
                    break
                spent += 1
                state, metrics = progress.state, dict(progress.metrics)
                curve.append(progress.curve[-1]["accuracy"])
                trial.report(metrics["accuracy"], epoch)
                if epoch < epochs and trial.should_prune():
                    status = Status.PRUNED
                    break
            number = len(known)
            if status is Status.FAILED:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                known[architecture.key] = 0.0
                record = Trial(number, architecture, {}, None, status, metrics["error"])
            else:
                value = metrics["accuracy"]
                known[architecture.key] = value
                pruned = status is Status.PRUNED
                full += not pruned
                state_of = optuna.trial.TrialState
                if pruned:
                    study.tell(trial, state=state_of.PRUNED)
                else:
                    study.tell(trial, value)
                record = Trial(number, architecture, metrics, value, status, curve=tuple(curve))
            opened.record_trial(experiment, record)
        opened.set_status(experiment, "complete")
    return Searched(started, full, spent)


class TPEStrategy(Strategy):
    """Optuna's seeded TPE, each decision a categorical parameter, as an rlnas strategy.

    A combination the space forbids (a width for a max-pool layer, say) is told ``worst`` at once
    and TPE asked again, so it learns to avoid them; only valid architectures reach the search.
    A failed trial is told ``worst`` too.
    """

    name = "tpe"

    def __init__(self, space: SearchSpace, seed: int = 0, worst: float = WORST) -> None:
        import optuna

        super().__init__(space, seed)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.worst = worst
        self.study = optuna.create_study(direction="maximize", sampler=self.sampler(seed))
        self.pending: defaultdict[str, deque[Any]] = defaultdict(deque)

    @staticmethod
    def sampler(seed: int) -> Any:
        import optuna

        return optuna.samplers.TPESampler(seed=seed)

    def ask(self, n: int = 1) -> list[Architecture]:
        return [self._ask_one() for _ in range(n)]

    def _ask_one(self) -> Architecture:
        for _ in range(MAX_REPEATS):
            trial = self.study.ask()
            choices = {
                c.name: trial.suggest_categorical(c.name, c.options) for c in self.space.choices
            }
            try:
                architecture = self.space.architecture(choices)
            except InvalidArchitecture:
                self.study.tell(trial, self.worst)
                continue
            self.pending[architecture.key].append(trial)
            return architecture
        raise RuntimeError(f"{self.name} proposed {MAX_REPEATS} forbidden architectures in a row")

    def tell(self, architecture: Architecture, trial: Trial) -> None:
        """Answer the oldest Optuna trial that proposed ``architecture`` (repeats come from the
        cache)."""
        value = self.worst if trial.reward is None else trial.reward
        self.study.tell(self.pending[architecture.key].popleft(), value)


class GPStrategy(TPEStrategy):
    """Optuna's seeded ``GPSampler`` (Gaussian-process Bayesian optimisation, log expected
    improvement), each decision a categorical parameter; slow: its cost grows with the trials."""

    name = "gp"

    @staticmethod
    def sampler(seed: int) -> Any:
        import optuna

        return optuna.samplers.GPSampler(seed=seed)


class LocalSearch(Strategy):
    """Local search (White, Nolen, Ramaswami, Frank & Hutter, "Exploring the loss landscape in
    neural architecture search", UAI 2021): from a random architecture, query one-decision
    neighbours in random order and move to the first that is better; when no neighbour is better
    (a local optimum), restart from a new random architecture.

    It never queries an architecture twice: a neighbour already evaluated is judged by the value
    it was told, at no cost.
    """

    name = "local-search"

    def __init__(self, space: SearchSpace, seed: int = 0) -> None:
        super().__init__(space, seed)
        self.values: dict[str, float] = {}
        self.asked: set[str] = set()
        self.current: Architecture | None = None
        self.untried: list[Architecture] = []

    def ask(self, n: int = 1) -> list[Architecture]:
        return [self._ask_one() for _ in range(n)]

    def _ask_one(self) -> Architecture:
        while self.current is not None and self.untried:
            candidate = self.untried.pop()
            if candidate.key in self.values:
                if self.values[candidate.key] > self.values[self.current.key]:
                    self._move(candidate)
            elif candidate.key not in self.asked:
                return self._asked(candidate)
        self.current = None  # a local optimum (or no start yet): restart at random
        for _ in range(MAX_REPEATS):
            start = self.space.sample(self.rng)
            if start.key not in self.asked:
                break
        return self._asked(start)

    def _asked(self, architecture: Architecture) -> Architecture:
        self.asked.add(architecture.key)
        return architecture

    def _move(self, architecture: Architecture) -> None:
        self.current = architecture
        self.untried = list(neighbours(self.space, architecture, self.rng))[::-1]

    def tell(self, architecture: Architecture, trial: Trial) -> None:
        """Record the value; the first better neighbour (or a restart's start) becomes current."""
        value = -math.inf if trial.reward is None else trial.reward
        self.values.setdefault(architecture.key, value)
        if self.current is None or value > self.values[self.current.key]:
            self._move(architecture)
