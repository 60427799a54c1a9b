"""The peers of ``multi_fidelity.py`` and ``training_search.py``: Optuna's TPE on rlnas's trainer.

The objective trains a candidate one epoch at a time through ``TrainingEvaluator.train_to``
(continuing from the state the last epoch left, so nothing is trained twice), reports the
validation accuracy after each epoch and stops when the pruner says so. Every candidate is
written to an rlnas store like a scheduled search's trials, so ``train_final`` retrains the best
fully trained one exactly as it does for rlnas's searches. Without a pruner, ``TPEStrategy``
puts TPE behind rlnas's own ``Strategy`` interface, so ``rlnas.search`` runs it like any of its
strategies (same loop, budget, cache and store).
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlnas.errors import InvalidArchitecture
from rlnas.problems import ProblemSettings, load_problem
from rlnas.space import Architecture, SearchSpace
from rlnas.store import Store
from rlnas.strategies import Strategy
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

    A combination the space forbids (a width for a max-pool layer, say) is told ``WORST`` at once
    and TPE asked again, so it learns to avoid them; only valid architectures reach the search.
    """

    name = "tpe"

    def __init__(self, space: SearchSpace, seed: int = 0) -> None:
        import optuna

        super().__init__(space, seed)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(seed=seed)
        self.study = optuna.create_study(direction="maximize", sampler=sampler)
        self.pending: defaultdict[str, deque[Any]] = defaultdict(deque)

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
                self.study.tell(trial, WORST)
                continue
            self.pending[architecture.key].append(trial)
            return architecture
        raise RuntimeError(f"TPE proposed {MAX_REPEATS} forbidden architectures in a row")

    def tell(self, architecture: Architecture, trial: Trial) -> None:
        """Answer the oldest TPE trial that proposed ``architecture`` (repeats come from the
        cache)."""
        value = WORST if trial.reward is None else trial.reward
        self.study.tell(self.pending[architecture.key].popleft(), value)
