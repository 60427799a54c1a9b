"""The conformance suite every registered strategy passes: a new strategy is tested by its name.

On a toy space with dependent options and a rule, each strategy runs through ``rlnas.search``
within its budget, repeats itself under the same seed, resumes exactly from ``state_dict()``
(after the store's torch round trip), and survives failed trials. Every strategy that learns
also passes the suite in progressive mode, on the same space made growable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import annotated_types
import pytest
from strategy_helpers import round_trip

import rlnas
from rlnas.strategies import strategy_class, strategy_option_rows
from rlnas.strategies.episodes import EpisodeSettings
from rlnas.strategies.options import options_model
from rlnas.trial import Status, Trial

NAMES = sorted(rlnas.STRATEGIES)
ONE_SHOT_ONLY = tuple(name for name in NAMES if not strategy_class(name).progressive)
BUDGET = 30
MAX_REPEATS = 100
"""A learning strategy may settle on a few architectures; the suite does not wait for it."""


def toy_space(growable: bool = False) -> rlnas.SearchSpace:
    """408 architectures: ``c`` may not exceed ``a``, and ``b = z`` forbids ``c = 2``.

    Growable, it grows in four steps; a step not made yet holds its fill options.
    """
    growth = rlnas.Growth(
        steps=[("a",), ("b", "c"), ("d",), ("e", "f")],
        fill={"a": 0, "b": "x", "c": 0, "d": "p", "e": False, "f": 0.25},
    )
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
        growth=growth if growable else None,
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


@dataclass(frozen=True)
class Case:
    """A strategy in one mode, with the toy space that mode needs."""

    name: str
    mode: str

    @property
    def episodes(self) -> EpisodeSettings:
        return EpisodeSettings(mode=self.mode)

    def space(self) -> rlnas.SearchSpace:
        return toy_space(growable=self.mode == "progressive")

    def make(self, space: rlnas.SearchSpace, seed: int) -> rlnas.Strategy:
        return rlnas.make_strategy(self.name, space, seed=seed, episodes=self.episodes)


CASES = [Case(name, "one-shot") for name in NAMES] + [
    Case(name, "progressive") for name in NAMES if name not in ONE_SHOT_ONLY
]


@pytest.fixture(params=CASES, ids=lambda case: f"{case.name}-{case.mode}")
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


def test_registry_builds_every_strategy_under_its_name(case: Case) -> None:
    strategy = case.make(case.space(), seed=0)
    assert isinstance(strategy, rlnas.Strategy)
    assert strategy.name == case.name


@pytest.mark.parametrize("name", ONE_SHOT_ONLY)
def test_strategies_without_progressive_mode_say_so(name: str) -> None:
    with pytest.raises(rlnas.UserError, match="has no progressive mode"):
        rlnas.make_strategy(
            name, toy_space(growable=True), episodes=EpisodeSettings(mode="progressive")
        )


def test_progressive_mode_needs_a_growable_space() -> None:
    with pytest.raises(rlnas.UserError, match="does not declare how it grows"):
        rlnas.make_strategy("reinforce", toy_space(), episodes=EpisodeSettings(mode="progressive"))


@pytest.mark.parametrize("name", NAMES)
def test_declares_each_option_with_help_and_a_default_within_its_bounds(name: str) -> None:
    for option, allowed, default, help_ in strategy_option_rows(name):
        assert help_, f"option {option} of {name} has no description"
        assert allowed and default
    rlnas.make_strategy(name, toy_space())  # the defaults pass their own declarations


@pytest.mark.parametrize("name", NAMES)
def test_refuses_each_option_just_past_its_bounds_in_one_line(name: str) -> None:
    for option, field in options_model(strategy_class(name)).model_fields.items():
        for bound in field.metadata:
            past = {
                annotated_types.Gt: lambda b: b.gt,
                annotated_types.Ge: lambda b: b.ge - 1,
                annotated_types.Lt: lambda b: b.lt,
                annotated_types.Le: lambda b: b.le + 1,
            }.get(type(bound))
            if past is None:
                continue
            with pytest.raises(rlnas.UserError, match=f"^strategy '{name}': option {option} "):
                rlnas.make_strategy(name, toy_space(), options={option: past(bound)})


def test_search_respects_the_budget_and_the_space(case: Case, tmp_path) -> None:
    space = case.space()
    proposed = []

    def recording(architecture: rlnas.Architecture) -> dict[str, float]:
        proposed.append(architecture)
        return evaluate(architecture)

    result = rlnas.search(
        space,
        recording,
        strategy=case.name,
        budget=BUDGET,
        seed=0,
        store=tmp_path / "runs.db",
        name="run",
        episodes=case.episodes,
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
        resumed = case.make(space, seed=0)
        resumed.load_state_dict(state["strategy"])


def test_same_seed_gives_identical_trials(case: Case) -> None:
    def run(seed: int) -> list[tuple]:
        result = rlnas.search(
            case.space(),
            evaluate,
            strategy=case.make(case.space(), seed),
            budget=BUDGET,
            seed=seed,
            max_repeats=MAX_REPEATS,
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


def test_resumes_exactly_from_its_state_dict(case: Case) -> None:
    space = case.space()
    original = case.make(space, seed=5)
    _drive(original, 15, start=0)
    state = round_trip(original.state_dict())
    resumed = case.make(space, seed=5)
    resumed.load_state_dict(state)
    continued = _drive(original, 15, start=15)
    assert _drive(resumed, 15, start=15) == continued


def test_a_different_seed_does_not_resume_by_accident(case: Case) -> None:
    """The resume test above means something only if the state carries the randomness."""
    space = case.space()
    first = case.make(space, seed=5)
    second = case.make(space, seed=6)
    first_proposals = _drive(first, 20, start=0)
    assert _drive(second, 20, start=0) != first_proposals


def test_survives_failed_trials(case: Case) -> None:
    def flaky(architecture: rlnas.Architecture) -> dict[str, float]:
        if architecture.choices["d"] == "q":
            raise RuntimeError("out of memory")
        if architecture.choices["b"] == "x":
            return {"accuracy": math.nan}
        return evaluate(architecture)

    result = rlnas.search(
        case.space(),
        flaky,
        strategy=case.make(case.space(), seed=1),
        budget=BUDGET,
        max_repeats=MAX_REPEATS,
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


def test_every_trial_failing_leaves_no_best(case: Case) -> None:
    def broken(architecture: rlnas.Architecture) -> dict[str, float]:
        raise ValueError("no GPU")

    result = rlnas.search(case.space(), broken, strategy=case.make(case.space(), 0), budget=10)
    assert len(result.trials) == 10
    assert all(t.error == "ValueError: no GPU" for t in result.trials)
    assert result.best is None


class TrainsByEpochs:
    """A fidelity evaluator on the toy space: the accuracy of ``evaluate`` times
    ``1 - 0.5**epoch``, the epochs reached as its state."""

    epochs = 9

    def __call__(self, architecture: rlnas.Architecture) -> dict[str, float]:
        return dict(self.train_to(architecture, self.epochs).metrics)

    def train_to(
        self, architecture: rlnas.Architecture, epochs: int, state: bytes | None = None
    ) -> rlnas.Progress:
        final = evaluate(architecture)["accuracy"]
        curve = tuple({"accuracy": final * (1 - 0.5**e)} for e in range(1, epochs + 1))
        return rlnas.Progress(curve[-1], curve, bytes([epochs]))


@pytest.mark.parametrize("scheduler", ["asha", "hyperband", "median"])
def test_every_candidate_stopped_or_not_is_told_once_with_a_scheduler(
    case: Case, scheduler: str
) -> None:
    strategy = case.make(case.space(), seed=0)
    told: list[Trial] = []
    learn = strategy.tell

    def recording(architecture: rlnas.Architecture, trial: Trial) -> None:
        told.append(trial)
        learn(architecture, trial)

    strategy.tell = recording  # type: ignore[method-assign]
    result = rlnas.search(
        case.space(),
        TrainsByEpochs(),
        strategy=strategy,
        budget=BUDGET,
        max_repeats=MAX_REPEATS,
        scheduler=rlnas.make_scheduler(scheduler, TrainsByEpochs.epochs),
    )
    fresh = [trial for trial in told if not trial.cached]
    assert [t.architecture for t in fresh] == [t.architecture for t in result.trials]
    assert all(trial.reward is not None for trial in fresh)
    if len(result.trials) >= 10:
        assert any(trial.pruned for trial in fresh)
    assert result.best is not None and not result.best.pruned
