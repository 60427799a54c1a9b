"""Mistakes in Python calls are UserErrors whose message says what to fix, raised before
anything is stored or evaluated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rlnas
from rlnas import Choice, Rule, SearchSpace, Trial, UserError
from rlnas.strategies.base import StrategyMisuse

SPACE = SearchSpace([Choice("a", [1, 2, 3]), Choice("b", ["x", "y"])])


def score(architecture: rlnas.Architecture) -> dict[str, float]:
    return {"accuracy": architecture.choices["a"] / 3}


NEVER = SearchSpace(SPACE.choices, rules=[Rule(lambda c: False, "never", needs=("a", "b"))])
RAISES = SearchSpace(SPACE.choices, rules=[Rule(lambda c: c["z"] > 0, "reads z", needs=("b",))])

SEARCHES = {
    "budget-as-text": (dict(budget="10"), "'budget': write a whole number, not text"),
    "budget-not-whole": (dict(budget=2.5), "'budget': Input should be a valid integer"),
    "budget-zero": (dict(budget=0), "greater than or equal to 1"),
    "space-as-list": (dict(space=list(SPACE.choices)), "rlnas.SearchSpace"),
    "rule-never-passes-random": (dict(space=NEVER, strategy="random"), "nothing open"),
    "rule-never-passes-ppo": (dict(space=NEVER, strategy="ppo"), "nothing open"),
    "rule-never-passes-q-learning": (dict(space=NEVER, strategy="q-learning"), "nothing open"),
    "rule-raises": (dict(space=RAISES), "raised KeyError"),
    "lambda-on-workers": (
        dict(evaluate=lambda a: {"accuracy": 1.0}, workers=2),
        "cannot be pickled",
    ),
    "evaluator-as-text": (dict(evaluate="score"), "pass the function itself"),
    "evaluator-not-callable": (dict(evaluate=3), "callable"),
    "returns-text": (dict(evaluate=lambda a: "0.5"), "not a mapping"),
    "returns-none": (dict(evaluate=lambda a: None), "not a mapping"),
    "returns-a-float": (dict(evaluate=lambda a: 0.5), "not a mapping"),
    "returns-a-text-metric": (dict(evaluate=lambda a: {"accuracy": "high"}), "must be a number"),
    "unknown-strategy-option": (
        dict(strategy="evolution", strategy_options={"population": 3}),
        "population_size",
    ),
}


@pytest.mark.parametrize("case", SEARCHES, ids=list(SEARCHES))
def test_a_misused_search_is_a_user_error_and_stores_nothing(case, tmp_path: Path) -> None:
    changes, message = SEARCHES[case]
    arguments = {"space": SPACE, "evaluate": score, "budget": 3, "store": tmp_path / "s.db"}
    arguments.update(changes)
    with pytest.raises(UserError, match=message) as raised:
        rlnas.search(arguments.pop("space"), arguments.pop("evaluate"), **arguments)
    assert "\n" not in str(raised.value)
    if case.startswith("returns-"):  # found at the first trial, before it was stored
        with rlnas.Store(tmp_path / "s.db") as store:
            assert store.experiments() == []
    else:
        assert not (tmp_path / "s.db").exists()


def test_a_wrong_return_fails_from_a_worker_process_too(tmp_path: Path) -> None:
    from misuse_evaluators import returns_text

    with pytest.raises(UserError, match="not a mapping"):
        rlnas.search(SPACE, returns_text, budget=2, workers=2, store=tmp_path / "s.db")


def test_the_metric_of_a_built_in_evaluator_is_checked_up_front(tmp_path: Path) -> None:
    from rlnas.estimators.tabular import load_benchmark

    bench = load_benchmark("nbg:cora")
    with pytest.raises(UserError, match="it reports validation, test"):
        rlnas.search(bench.space, bench.evaluate, metric="accuracy", store=tmp_path / "s.db")
    assert not (tmp_path / "s.db").exists()


def test_choices_misused() -> None:
    with pytest.raises(UserError, match=r"options must be a list.*\['abc'\]"):
        Choice("x", "abc")
    assert Choice("x", np.arange(3)).options == (0, 1, 2)  # numpy scalars become plain
    with pytest.raises(UserError, match="decision 'a': 5 is not one of") as raised:
        SPACE.architecture({"a": np.int64(5), "b": "x"})
    assert "np." not in str(raised.value)


@pytest.mark.parametrize("name", list(rlnas.STRATEGIES))
def test_ask_tell_and_load_state_dict_misused(name: str) -> None:
    strategy = rlnas.make_strategy(name, SPACE, seed=0)
    with pytest.raises(StrategyMisuse, match="ask"):
        strategy.ask(-1)
    with pytest.raises(StrategyMisuse, match="ask"):
        strategy.ask("2")
    (architecture,) = strategy.ask(1)
    with pytest.raises(StrategyMisuse, match="an Architecture"):
        strategy.tell({"a": 1, "b": "x"}, Trial(0, architecture, {}, 1.0))
    with pytest.raises(StrategyMisuse, match=r"rlnas\.Trial"):
        strategy.tell(architecture, {"accuracy": 1.0})
    with pytest.raises(StrategyMisuse, match="does not fit"):
        strategy.load_state_dict({})
    with pytest.raises(StrategyMisuse, match="what state_dict"):
        strategy.load_state_dict([1, 2])
    strategy.tell(architecture, Trial(0, architecture, {"accuracy": 1.0}, 1.0))
    strategy.load_state_dict(strategy.state_dict())  # the right use still works


def test_rejected_trials_use_no_budget() -> None:
    from rlnas.rewards import ConstraintViolation

    def evaluate(architecture: rlnas.Architecture) -> dict[str, float]:
        if architecture.choices["a"] == 3:
            raise ConstraintViolation("hard constraint params<=10 violated: params = 30")
        return score(architecture)

    result = rlnas.search(SPACE, evaluate, strategy="random", budget=4, seed=0)
    statuses = [trial.status for trial in result.trials]
    assert statuses.count("complete") == 4 and "rejected" in statuses
    assert result.best.architecture.choices["a"] == 2
