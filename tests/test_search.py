"""The search loop: budget of distinct architectures, repeats, early stop, direction, best."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rlnas
from rlnas.rewards import RewardError
from rlnas.trial import Trial

OPTIONS = ["conv3", "conv5", "skip"]


def layer_space(layers: int = 6) -> rlnas.SearchSpace:
    return rlnas.SearchSpace([rlnas.Choice(f"layer{i}", OPTIONS) for i in range(layers)])


def score(choices) -> float:
    """Known optimum: every layer conv5."""
    return sum({"conv3": 0.5, "conv5": 1.0, "skip": 0.0}[option] for option in choices.values())


class Scripted(rlnas.Strategy):
    """Proposes a fixed cycle of architectures and records every tell."""

    name = "scripted"

    def __init__(self, space: rlnas.SearchSpace, script: list[dict], seed: int = 0) -> None:
        super().__init__(space, seed)
        self.script = [space.architecture(choices) for choices in script]
        self.asked = 0
        self.told: list[tuple[rlnas.Architecture, Trial]] = []

    def ask(self, n: int = 1) -> list[rlnas.Architecture]:
        proposals = [self.script[(self.asked + i) % len(self.script)] for i in range(n)]
        self.asked += n
        return proposals

    def tell(self, architecture: rlnas.Architecture, trial: Trial) -> None:
        self.told.append((architecture, trial))


def _arch(*options: str) -> dict:
    return {f"layer{i}": option for i, option in enumerate(options)}


def test_the_snippet_from_the_issue_works() -> None:
    space = rlnas.SearchSpace(
        [rlnas.Choice(f"layer{i}", ["conv3", "conv5", "skip"]) for i in range(6)]
    )

    def evaluate(arch):
        return {"accuracy": score(arch.choices)}

    result = rlnas.search(
        space, evaluate, strategy="evolution", metric="accuracy", budget=100, seed=0
    )
    print(result.best.architecture.choices, result.best.metrics)
    assert len(result.trials) == 100
    assert result.best.metrics["accuracy"] == max(t.metrics["accuracy"] for t in result.trials)
    assert result.best.metrics["accuracy"] >= 5.0  # evolution gets close to the optimum of 6


def test_a_custom_space_and_evaluator_in_ten_lines() -> None:
    space = rlnas.SearchSpace(
        [
            rlnas.Choice("width", [16, 32, 64]),
            rlnas.Choice("depth", [1, 2, 3]),
            rlnas.Choice("activation", ["relu", "tanh"]),
        ],
        rules=[rlnas.Rule(lambda c: c["width"] * c["depth"] <= 128, "too big", ("width", "depth"))],
    )
    result = rlnas.search(
        space, lambda a: {"score": a.choices["width"] * a.choices["depth"]}, "random", "score", 30
    )
    assert (
        result.best.architecture.choices["width"] * result.best.architecture.choices["depth"] == 128
    )
    assert all(t.metrics["score"] <= 128 for t in result.trials)
    assert len(result.trials) == 8 * 2  # the whole space, then only repeats are left
    assert result.stopped_early is not None


def test_budget_counts_distinct_architectures_and_repeats_are_still_told() -> None:
    space = layer_space()
    a, b, c = _arch(*["conv3"] * 6), _arch(*["conv5"] * 6), _arch(*["skip"] * 6)
    strategy = Scripted(space, [a, a, b, a, b, c])
    evaluated = []

    def evaluate(architecture):
        evaluated.append(architecture)
        return {"accuracy": score(architecture.choices)}

    result = rlnas.search(space, evaluate, strategy=strategy, budget=3)
    assert [t.architecture for t in result.trials] == [space.architecture(x) for x in (a, b, c)]
    assert len(evaluated) == 3
    assert len(strategy.told) == 6  # every proposal was told, repeats included
    cached = [trial.cached for _, trial in strategy.told]
    assert cached == [False, True, False, True, True, False]
    for architecture, trial in strategy.told:
        assert trial.architecture == architecture
        assert trial.reward == score(architecture.choices)


def test_max_repeats_stops_a_strategy_that_repeats_itself() -> None:
    space = layer_space()
    strategy = Scripted(space, [_arch(*["conv3"] * 6)])
    result = rlnas.search(
        space, lambda a: {"accuracy": 1.0}, strategy=strategy, budget=10, max_repeats=25
    )
    assert len(result.trials) == 1
    assert result.stopped_early is not None and "25" in result.stopped_early
    assert len(strategy.told) == 26


def test_minimize_direction() -> None:
    space = layer_space(3)
    result = rlnas.search(
        space,
        lambda a: {"loss": score(a.choices)},
        strategy="random",
        metric="loss",
        direction="minimize",
        budget=27,
        seed=0,
    )
    assert result.best.metrics["loss"] == 0.0
    assert result.best.reward == -0.0
    assert all(t.reward == -t.metrics["loss"] for t in result.trials)


def test_the_best_trial_is_the_highest_reward_and_the_earliest_on_a_tie() -> None:
    space = layer_space(2)
    script = [
        _arch("skip", "skip"),
        _arch("conv5", "conv3"),
        _arch("conv3", "conv5"),
        _arch("conv5", "conv5"),
        _arch("conv3", "conv3"),
    ]
    values = {"skip": 0, "conv3": 1, "conv5": 1}
    result = rlnas.search(
        space,
        lambda a: {"accuracy": sum(values[o] for o in a.choices.values())},
        strategy=Scripted(space, script),
        budget=5,
    )
    assert result.best.number == 1
    assert result.best.architecture == space.architecture(script[1])


def test_failures_are_recorded_with_their_reason_and_the_search_goes_on() -> None:
    space = layer_space(2)
    script = [
        _arch("skip", "skip"),
        _arch("conv3", "skip"),
        _arch("conv5", "skip"),
        _arch("conv5", "conv5"),
        _arch("conv3", "conv3"),
    ]

    def evaluate(architecture):
        first = architecture.choices["layer0"]
        if first == "skip":
            raise RuntimeError("nothing to train")
        if first == "conv3" and architecture.choices["layer1"] == "skip":
            return {"accuracy": math.inf, "params": 3.0}
        if architecture.choices["layer1"] == "conv3":
            return {"loss": 1.0}
        if architecture.choices["layer1"] == "skip":
            raise RewardError("hard limit broken")
        return {"accuracy": 0.9}

    strategy = Scripted(space, script)
    result = rlnas.search(space, evaluate, strategy=strategy, budget=5)
    errors = [t.error for t in result.trials]
    assert errors[0] == "RuntimeError: nothing to train"
    assert "diverged" in errors[1]
    assert result.trials[1].metrics == {"params": 3.0}  # finite metrics are kept
    assert errors[2] == "hard limit broken"
    assert errors[3] is None
    assert "no 'accuracy' metric" in errors[4]
    assert [t.failed for t in result.trials] == [True, True, True, False, True]
    assert result.best.number == 3
    assert [trial.failed for _, trial in strategy.told] == [True, True, True, False, True]


def test_a_bad_budget_is_a_user_error() -> None:
    with pytest.raises(rlnas.UserError, match="budget"):
        rlnas.search(layer_space(), lambda a: {"accuracy": 1.0}, budget=0)


def test_unknown_strategy_is_a_user_error() -> None:
    with pytest.raises(rlnas.UserError, match="unknown strategy"):
        rlnas.search(layer_space(), lambda a: {"accuracy": 1.0}, strategy="gradient-descent")


def test_progress_callback_sees_every_distinct_trial() -> None:
    seen = []
    rlnas.search(
        layer_space(),
        lambda a: {"accuracy": score(a.choices)},
        strategy="random",
        budget=12,
        on_trial=lambda trial, done, budget: seen.append((done, budget)),
    )
    assert seen == [(done, 12) for done in range(1, 13)]


def test_search_stores_trials_and_the_experiment_status(tmp_path) -> None:
    path = tmp_path / "runs.db"
    result = rlnas.search(
        layer_space(),
        lambda a: {"accuracy": score(a.choices)},
        strategy="evolution",
        budget=25,
        seed=2,
        store=path,
        name="first",
    )
    assert result.experiment == "first"
    again = rlnas.search(
        layer_space(),
        lambda a: {"accuracy": score(a.choices)},
        strategy="evolution",
        budget=5,
        seed=2,
        store=path,
    )
    assert again.experiment == "evolution-custom-seed2"
    with rlnas.Store(path) as store:
        experiment = store.experiment("first")
        assert experiment.status == "complete"
        assert experiment.config["metric"] == "accuracy"
        assert experiment.config["budget"] == 25
        stored = store.trials(experiment)
        assert [s.architecture for s in stored] == [
            dict(t.architecture.choices) for t in result.trials
        ]
        assert [s.reward for s in stored] == [t.reward for t in result.trials]
        assert store.checkpoint(experiment)[0] == 25
        assert store.experiment().name == "evolution-custom-seed2"


def test_an_interrupted_search_is_marked_so(tmp_path) -> None:
    def evaluate(architecture):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(architecture)
        return {"accuracy": 1.0}

    calls: list = []
    with pytest.raises(KeyboardInterrupt):
        rlnas.search(
            layer_space(),
            evaluate,
            strategy="random",
            budget=10,
            store=tmp_path / "runs.db",
            name="stopped",
        )
    with rlnas.Store(tmp_path / "runs.db") as store:
        experiment = store.experiment("stopped")
        assert experiment.status == "interrupted"
        assert len(store.trials(experiment)) == 3


def test_a_trial_takes_its_status_as_text_too() -> None:
    architecture = layer_space().sample(np.random.default_rng(0))
    trial = Trial(0, architecture, {}, None, "failed", "boom")  # type: ignore[arg-type]
    assert trial.failed and trial.status is rlnas.Status.FAILED
    with pytest.raises(ValueError):
        Trial(0, architecture, {}, math.nan)
