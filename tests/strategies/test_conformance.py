"""The conformance suite every registered strategy passes: a new strategy is tested by its name.

On a toy space with dependent options and a rule, each strategy runs through ``rlnas.search``
within its budget, repeats itself under the same seed, resumes exactly from ``state_dict()``
(after the store's torch round trip), and survives failed trials.
"""

from __future__ import annotations

import math

import pytest
from strategy_helpers import round_trip

import rlnas
from rlnas.trial import Status, Trial

NAMES = sorted(rlnas.STRATEGIES)
BUDGET = 30
MAX_REPEATS = 100
"""A learning strategy may settle on a few architectures; the suite does not wait for it."""


def toy_space() -> rlnas.SearchSpace:
    """408 architectures: ``c`` may not exceed ``a``, and ``b = z`` forbids ``c = 2``."""
    return rlnas.SearchSpace(
        [
            rlnas.Choice("a", [0, 1, 2]),
            rlnas.Choice("b", ["x", "y", "z"]),
            rlnas.Choice("c", [0, 1, 2], allowed=lambda made: range(made["a"] + 1)),
            rlnas.Choice("d", ["p", "q", "r"]),
            rlnas.Choice("e", [False, True]),
            rlnas.Choice("f", [0.25, 0.5, 0.75, 1.0]),
        ],
        rules=[
            rlnas.Rule(
                lambda made: not (made["b"] == "z" and made["c"] == 2),
                "b = z forbids c = 2",
                needs=("b", "c"),
            )
        ],
        name="toy",
    )


def score(choices) -> float:
    return (
        choices["a"]
        + {"x": 0, "y": 2, "z": 1}[choices["b"]]
        + choices["c"]
        + {"p": 1, "q": 0, "r": 2}[choices["d"]]
        + 0.5 * choices["e"]
        + choices["f"]
    )


def evaluate(architecture: rlnas.Architecture) -> dict[str, float]:
    return {"accuracy": score(architecture.choices) / 10}


def _trial(number: int, architecture: rlnas.Architecture) -> Trial:
    value = score(architecture.choices) / 10
    return Trial(number, architecture, {"accuracy": value}, value)


def _failed(number: int, architecture: rlnas.Architecture) -> Trial:
    return Trial(number, architecture, {}, None, Status.FAILED, "boom")


@pytest.fixture(params=NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return request.param


def test_registry_builds_every_strategy_under_its_name(name: str) -> None:
    strategy = rlnas.make_strategy(name, toy_space(), seed=0)
    assert isinstance(strategy, rlnas.Strategy)
    assert strategy.name == name


def test_search_respects_the_budget_and_the_space(name: str, tmp_path) -> None:
    space = toy_space()
    proposed = []

    def recording(architecture: rlnas.Architecture) -> dict[str, float]:
        proposed.append(architecture)
        return evaluate(architecture)

    result = rlnas.search(
        space,
        recording,
        strategy=name,
        budget=BUDGET,
        seed=0,
        store=tmp_path / "runs.db",
        name="run",
        max_repeats=MAX_REPEATS,
    )
    keys = [trial.architecture.key for trial in result.trials]
    assert len(set(keys)) == len(keys)
    if result.stopped_early is None:
        assert len(result.trials) == BUDGET
    else:
        assert 0 < len(result.trials) < BUDGET
    assert len(proposed) == len(result.trials)  # repeats are never evaluated again
    for architecture in proposed:
        assert space.architecture(dict(architecture.choices)) == architecture
    assert result.best is not None
    assert result.best.reward == max(t.reward for t in result.trials)
    with rlnas.Store(tmp_path / "runs.db") as store:
        experiment = store.experiment("run")
        assert experiment.status == "complete"
        assert [t.key for t in store.trials(experiment)] == keys
        done, state = store.checkpoint(experiment)
        assert done == len(keys)
        resumed = rlnas.make_strategy(name, space, seed=0)
        resumed.load_state_dict(state["strategy"])


def test_same_seed_gives_identical_trials(name: str) -> None:
    def run(seed: int) -> list[tuple]:
        result = rlnas.search(
            toy_space(), evaluate, strategy=name, budget=BUDGET, seed=seed, max_repeats=MAX_REPEATS
        )
        return [(t.architecture, t.reward, t.status) for t in result.trials]

    first = run(3)
    assert run(3) == first


def _drive(strategy: rlnas.Strategy, steps: int, start: int) -> list[rlnas.Architecture]:
    proposals = []
    for number in range(start, start + steps):
        [architecture] = strategy.ask(1)
        proposals.append(architecture)
        tell = _failed if number % 7 == 3 else _trial
        strategy.tell(architecture, tell(number, architecture))
    return proposals


def test_resumes_exactly_from_its_state_dict(name: str) -> None:
    space = toy_space()
    original = rlnas.make_strategy(name, space, seed=5)
    _drive(original, 15, start=0)
    state = round_trip(original.state_dict())
    resumed = rlnas.make_strategy(name, space, seed=5)
    resumed.load_state_dict(state)
    continued = _drive(original, 15, start=15)
    assert _drive(resumed, 15, start=15) == continued


def test_a_different_seed_does_not_resume_by_accident(name: str) -> None:
    """The resume test above means something only if the state carries the randomness."""
    space = toy_space()
    first = rlnas.make_strategy(name, space, seed=5)
    second = rlnas.make_strategy(name, space, seed=6)
    first_proposals = _drive(first, 20, start=0)
    assert _drive(second, 20, start=0) != first_proposals


def test_survives_failed_trials(name: str) -> None:
    def flaky(architecture: rlnas.Architecture) -> dict[str, float]:
        if architecture.choices["d"] == "q":
            raise RuntimeError("out of memory")
        if architecture.choices["b"] == "x":
            return {"accuracy": math.nan}
        return evaluate(architecture)

    result = rlnas.search(
        toy_space(), flaky, strategy=name, budget=BUDGET, seed=1, max_repeats=MAX_REPEATS
    )
    if result.stopped_early is None:
        assert len(result.trials) == BUDGET
    reasons = {t.error for t in result.trials if t.failed}
    assert "RuntimeError: out of memory" in reasons
    assert any(reason and "diverged" in reason for reason in reasons)
    for trial in result.trials:
        assert trial.failed == (
            trial.architecture.choices["d"] == "q" or trial.architecture.choices["b"] == "x"
        )
        assert (trial.reward is None) == trial.failed
    assert result.best is not None and not result.best.failed


def test_every_trial_failing_leaves_no_best(name: str) -> None:
    def broken(architecture: rlnas.Architecture) -> dict[str, float]:
        raise ValueError("no GPU")

    result = rlnas.search(toy_space(), broken, strategy=name, budget=10, seed=0)
    assert len(result.trials) == 10
    assert all(t.error == "ValueError: no GPU" for t in result.trials)
    assert result.best is None
