"""Strategy options: declared once on the constructor, checked once, one line when wrong."""

from __future__ import annotations

import math
import sys
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pytest
import torch
from pydantic import Field
from strategy_helpers import round_trip, run, toy_space

import rlnas
from rlnas import cli
from rlnas.space import Architecture, SearchSpace
from rlnas.strategies import strategy_class
from rlnas.strategies.ppo import PPO
from rlnas.strategies.saved_state import SavedState
from rlnas.trial import Trial

if TYPE_CHECKING:
    from rlnas.strategies.episodes import EpisodeSettings as OnlyForTypeCheckers

BAD_OPTIONS = {
    "ppo-negative-learning-rate": ("ppo", {"learning_rate": -1}, "learning_rate must be in (0, 1]"),
    "ppo-nan-learning-rate": ("ppo", {"learning_rate": math.nan}, "learning_rate must be a finite"),
    "ppo-zero-epochs": ("ppo", {"epochs": 0}, "epochs must be in [1, "),
    "ppo-negative-hidden-size": ("ppo", {"hidden_size": -4}, "hidden_size must be in [1, "),
    "ppo-epochs-not-a-number": ("ppo", {"epochs": "four"}, "epochs must be a whole number"),
    "evolution-zero-tournament": ("evolution", {"tournament_size": 0}, "tournament_size must be"),
    "evolution-tournament-over-population": (
        "evolution",
        {"tournament_size": 9, "population_size": 4},
        "tournament_size must be <= population_size",
    ),
    "reinforce-zero-batch": ("reinforce", {"batch_size": 0}, "batch_size must be in [1, "),
    "mcts-zero-simulations": ("mcts", {"simulations": 0}, "simulations must be in [1, "),
    "mcts-unknown-candidate": ("mcts", {"candidates": ["nope"]}, "candidates must be a list of"),
    "weird-reward-shaping": ("ppo", {"reward_shaping": "weird"}, "reward_shaping must be one of"),
    "q-learning-learning-rate-2": ("q-learning", {"learning_rate": 2}, "learning_rate must be in"),
    "sarsa-inherits-the-bounds": ("sarsa", {"replay": -1}, "replay must be in [0, "),
    "dyna-ppo-passes-ppo-options": ("dyna-ppo", {"epochs": 0}, "epochs must be in [1, "),
}


@pytest.mark.parametrize("case", BAD_OPTIONS.values(), ids=list(BAD_OPTIONS))
def test_a_bad_option_is_one_line_naming_strategy_option_and_range(case) -> None:
    name, options, expected = case
    with pytest.raises(rlnas.UserError) as error:
        rlnas.make_strategy(name, toy_space(), options=options)
    message = str(error.value)
    assert message.startswith(f"strategy {name!r}: option ")
    assert expected in message
    assert "\n" not in message


def test_the_message_gives_the_range_and_what_was_given() -> None:
    with pytest.raises(rlnas.UserError) as error:
        rlnas.make_strategy("ppo", toy_space(), options={"learning_rate": -1})
    assert str(error.value) == "strategy 'ppo': option learning_rate must be in (0, 1] (got -1)"


def test_built_by_class_the_options_are_checked_the_same_way() -> None:
    with pytest.raises(rlnas.UserError, match=r"'ppo': option epochs must be in \[1, "):
        PPO(toy_space(), epochs=0)
    with pytest.raises(rlnas.UserError, match="'ppo': option learning_rate"):
        PPO(toy_space(), 0, 4, 0.2, 0.9, True, 5, learning_rate=-1)


def test_an_unknown_option_lists_the_valid_ones() -> None:
    with pytest.raises(rlnas.UserError, match="has no option 'lr'; its options are epochs, clip"):
        rlnas.make_strategy("ppo", toy_space(), options={"lr": 0.1})
    with pytest.raises(rlnas.UserError, match="its options are population_size, tournament"):
        rlnas.make_strategy("evolution", toy_space(), options={"population": 3})
    with pytest.raises(rlnas.UserError, match="has no option 'seed'"):
        rlnas.make_strategy("ppo", toy_space(), options={"seed": 3})


def test_space_and_seed_that_are_wrong_are_named() -> None:
    with pytest.raises(rlnas.UserError, match=r"argument space must be an rlnas\.SearchSpace"):
        rlnas.make_strategy("ppo", "space")  # type: ignore[arg-type]
    with pytest.raises(rlnas.UserError, match="argument seed must be a whole number"):
        rlnas.make_strategy("evolution", toy_space(), seed=-1)


def test_options_arrive_as_their_declared_types_and_defaults_per_algorithm() -> None:
    strategy = rlnas.make_strategy("ppo", toy_space(), options={"epochs": 3.0})
    assert strategy.epochs == 3 and isinstance(strategy.epochs, int)
    assert strategy.batch_size == 5  # ppo's own default of the shared option
    assert rlnas.make_strategy("reinforce", toy_space()).batch_size == 1
    assert rlnas.make_strategy("actor-critic", toy_space()).learning_rate == 0.03
    options = {"model": "pool", "candidates": ["kernel"]}
    mcts = rlnas.make_strategy("mcts", toy_space(), options=options)
    assert mcts.model.regressor.candidates == ("kernel",)


class Annealing(rlnas.Strategy):
    """A strategy written elsewhere that only annotates its constructor."""

    name = "annealing"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        cooling: Annotated[float, Field(gt=0, lt=1, description="Per step.")] = 0.9,
        **rest: Any,
    ) -> None:
        super().__init__(space, seed)
        self.cooling = cooling

    def ask(self, n: int = 1) -> list[Architecture]:
        return [self.space.sample(self.rng) for _ in range(n)]

    def tell(self, architecture: Architecture, trial: Trial) -> None:
        pass


class Quenching(Annealing):
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        steps: Annotated[int, Field(ge=1, le=10, description="Steps.")] = 2,
        **annealing: Any,
    ) -> None:
        super().__init__(space, seed, **annealing)
        self.steps = steps


class Deep(Annealing):
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        episodes: OnlyForTypeCheckers | None = None,
        depth: Annotated[int, Field(ge=1, le=9, description="Depth.")] = 1,
    ) -> None:
        super().__init__(space, seed)
        self.depth = depth


def test_any_strategy_that_annotates_its_constructor_is_checked() -> None:
    with pytest.raises(rlnas.UserError, match=r"option depth must be in \[1, 9\] \(got 0\)"):
        Deep(toy_space(), depth=0)  # a parameter typed only for type checkers is no option
    assert Deep(toy_space(), depth=2).depth == 2
    with pytest.raises(rlnas.UserError, match=r"'annealing': option cooling must be in \(0, 1\)"):
        Quenching(toy_space(), cooling=1.5)
    with pytest.raises(rlnas.UserError, match="option steps must be in"):
        Quenching(toy_space(), steps=0)
    with pytest.raises(rlnas.UserError, match="its options are steps, cooling"):
        Quenching(toy_space(), heat=1)
    built = Quenching(toy_space(), steps=3, cooling=0.5)
    assert (built.steps, built.cooling) == (3, 0.5)


def _cli(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["rlnas", *argv])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    out, err = capsys.readouterr()
    return exit_.value.code or 0, out, err


def test_the_command_line_gives_one_error_line_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    store = tmp_path / "runs.db"
    argv = ["search", "--benchmark", "nbg:cora", "--strategy", "ppo", "--budget", "3"]
    bad = ["--strategy-option", "learning_rate=-1", "--store", str(store)]
    code, _, err = _cli([*argv, *bad], monkeypatch, capsys)
    assert code == 2
    assert err.strip() == "error: strategy 'ppo': option learning_rate must be in (0, 1] (got -1)"
    assert not store.exists()


def test_list_shows_a_strategys_options(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = _cli(["list", "--strategy", "ppo"], monkeypatch, capsys)
    assert code == 0
    row = next(line for line in out.splitlines() if "learning_rate" in line)
    assert "(0, 1]" in row and "0.01" in row and "Adam's step size" in row
    code, _, err = _cli(["list", "--strategy", "nope"], monkeypatch, capsys)
    assert code == 2 and "unknown strategy 'nope'" in err


class Everything(SavedState):
    """One attribute of each kind the declared list handles."""

    saved = ("rng", "generator", "network", "optimizer", "queue", "seen", "count", "pairs")

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.generator = torch.Generator().manual_seed(seed)
        self.network = torch.nn.Linear(2, 1)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=0.1)
        self.queue: deque[int] = deque(maxlen=3)
        self.seen: set[str] = set()
        self.count = 0
        self.pairs: list[tuple[str, float]] = []

    def step(self) -> tuple:
        self.queue.append(int(self.rng.integers(100)))
        self.seen.add(str(torch.randint(9, (1,), generator=self.generator).item()))
        inputs = torch.randn(4, 2, generator=self.generator)
        loss = self.network(inputs).pow(2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.count += 1
        self.pairs.append((str(self.count), loss.item()))
        return (tuple(self.queue), sorted(self.seen), self.pairs[-1], self.count)


def test_state_from_the_declared_list_resumes_every_kind_exactly() -> None:
    original = Everything(seed=1)
    for _ in range(5):
        original.step()
    state = round_trip(original.state_dict())
    resumed = Everything(seed=2)
    resumed.load_state_dict(state)
    assert isinstance(resumed.queue, deque) and resumed.queue.maxlen == 3
    assert isinstance(resumed.seen, set)
    assert [resumed.step() for _ in range(5)] == [original.step() for _ in range(5)]


def test_saved_state_is_a_copy_not_the_live_objects() -> None:
    strategy = rlnas.make_strategy("evolution", toy_space(), seed=0)
    run(strategy, 25)
    state = strategy.state_dict()
    before = list(state["population"])
    run(strategy, 5, start=25)
    assert state["population"] == before


def test_evolution_saves_its_declared_list() -> None:
    assert strategy_class("evolution").saved == ("rng", "population")
