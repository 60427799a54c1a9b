"""Progressive mode: episode bookkeeping, per-step returns, and strategies that learn to grow."""

from __future__ import annotations

import pytest

import rlnas
from rlnas.space import Architecture
from rlnas.strategies import strategy_class
from rlnas.strategies.episodes import Episodes, EpisodeSettings
from rlnas.strategies.reward_shaping import RewardShaper
from rlnas.trial import Status, Trial

LAYERS = 4
PROGRESSIVE = [name for name in sorted(rlnas.STRATEGIES) if strategy_class(name).progressive]
GROWING = EpisodeSettings(mode="progressive")
OPTIONS = {name: {"epsilon_length": 40} for name in ("q-learning", "sarsa", "dyna-q")}
"""The epsilon schedule counts episodes: end it within the 60 the learning test runs."""


def layered_space() -> rlnas.SearchSpace:
    """Four layers of five options, grown one layer per step; 'a' is the only useful option."""
    names = [f"layer{k}" for k in range(LAYERS)]
    return rlnas.SearchSpace(
        [rlnas.Choice(name, ["none", "a", "b", "c", "d"]) for name in names],
        name="layers",
        growth=rlnas.Growth(steps=[(name,) for name in names], fill=dict.fromkeys(names, "none")),
    )


def value(architecture: Architecture) -> float:
    return sum(option == "a" for option in architecture.choices.values()) / LAYERS


def trial(number: int, architecture: Architecture, reward: float | None = None) -> Trial:
    reward = value(architecture) if reward is None else reward
    return Trial(number, architecture, {"accuracy": reward}, reward)


def walk_of(episodes: Episodes, layers: list[str]) -> Architecture:
    """The walk that grows ``layers`` and stops after them (or runs to the end)."""
    choices: dict = {}
    for k in range(LAYERS):
        choices[f"layer{k}"] = layers[k] if k < len(layers) else "none"
        if k < LAYERS - 1:
            choices[f"stop@{k}"] = k >= len(layers) - 1
    return episodes.space.architecture(choices)


def test_an_episode_asks_every_step_and_completes_when_all_are_told_in_any_order() -> None:
    episodes = Episodes(layered_space(), GROWING.replaced(step_reward="metric"))
    walk = walk_of(episodes, ["a", "b", "a"])
    asked = episodes.ask(3, lambda: walk)
    assert [dict(a.choices) for a in asked] == [
        {"layer0": "a", "layer1": "none", "layer2": "none", "layer3": "none"},
        {"layer0": "a", "layer1": "b", "layer2": "none", "layer3": "none"},
        {"layer0": "a", "layer1": "b", "layer2": "a", "layer3": "none"},
    ]
    shaper = RewardShaper("raw")
    assert episodes.tell(asked[2], trial(0, asked[2]), shaper) == []
    assert episodes.tell(asked[0], trial(1, asked[0]), shaper) == []
    [episode] = episodes.tell(asked[1], trial(2, asked[1]), shaper)
    assert episode.walk == walk and episode.raw == (0.25, 0.25, 0.5)
    assert episode.length == 6  # three layers, two 'continue' and one 'stop'
    assert not episodes.drafts and not episodes.pending


@pytest.mark.parametrize(
    ("step_reward", "step_cost", "discount", "expected"),
    [
        ("metric", 0.0, 1.0, [1.0, 0.75, 0.5]),  # 0.25 + 0.25 + 0.5
        ("improvement", 0.0, 1.0, [0.5, 0.25, 0.25]),  # 0.25, 0, 0.25: the final value
        ("improvement", 0.1, 0.5, [0.1375, -0.025, 0.15]),  # 0.15 + 0.5 * (-0.1 + 0.5 * 0.15)
    ],
)
def test_returns_follow_the_step_reward_its_cost_and_the_discount(
    step_reward: str, step_cost: float, discount: float, expected: list[float]
) -> None:
    episodes = Episodes(
        layered_space(),
        GROWING.replaced(step_reward=step_reward, step_cost=step_cost, discount=discount),
    )
    asked = episodes.ask(3, lambda: walk_of(episodes, ["a", "b", "a"]))
    shaper = RewardShaper("raw")
    finished = [
        e for number, a in enumerate(asked) for e in episodes.tell(a, trial(number, a), shaper)
    ]
    returns = episodes.returns(finished[0])
    # decisions: layer0 stop@0 layer1 stop@1 layer2 stop@2 layer3: a step's return from its layer
    assert [returns[0], returns[2], returns[4]] == pytest.approx(expected)
    assert returns[1] == pytest.approx(expected[1])  # 'continue' earns what follows it
    assert returns[6] == 0.0  # forced after the stop


def test_the_same_architecture_in_two_episodes_is_credited_first_asked_first() -> None:
    episodes = Episodes(layered_space(), GROWING)
    walks = iter([walk_of(episodes, ["a", "b"]), walk_of(episodes, ["a", "c"])])
    asked = episodes.ask(4, lambda: next(walks))
    assert asked[0] == asked[2]  # both episodes start with layer0 = 'a'
    shaper = RewardShaper("raw")
    for number in (0, 1, 3):
        episodes.tell(asked[number], trial(number, asked[number]), shaper)
    state = episodes.state_dict()
    restored = Episodes(layered_space(), GROWING)
    restored.load_state_dict(state)
    assert restored.pending == episodes.pending
    [episode] = restored.tell(asked[0], trial(9, asked[0], reward=0.7), shaper)
    assert episode.walk == walk_of(episodes, ["a", "c"]) and episode.raw == (0.7, 0.25)


def test_a_failed_step_is_rewarded_as_a_failure() -> None:
    episodes = Episodes(layered_space(), GROWING.replaced(step_reward="metric"))
    asked = episodes.ask(2, lambda: walk_of(episodes, ["a", "a"]))
    shaper = RewardShaper("raw")
    episodes.tell(asked[0], trial(0, asked[0]), shaper)
    failed = Trial(1, asked[1], {}, None, Status.FAILED, "boom")
    [episode] = episodes.tell(asked[1], failed, shaper)
    assert episode.raw == (0.25, None)
    assert episodes.reshaped(episode, shaper)[1] < 0.25


@pytest.mark.parametrize("name", PROGRESSIVE)
def test_the_budget_counts_every_evaluated_step(name: str) -> None:
    space = layered_space()
    result = rlnas.search(
        space,
        lambda a: {"accuracy": value(a)},
        name,
        budget=25,
        episodes=GROWING,
    )
    assert len(result.trials) == 25
    partial = [t for t in result.trials if t.architecture.choices[f"layer{LAYERS - 1}"] == "none"]
    assert partial  # networks that were still growing were evaluated and counted
    assert result.best is not None and result.best.reward == max(t.reward for t in result.trials)


@pytest.mark.parametrize("name", PROGRESSIVE)
def test_strategies_learn_to_grow_the_best_network(name: str) -> None:
    """Late episodes grow networks with 'a' layers; random growth (stop or grow at even odds,
    'a' one option in five) averages about 0.1."""
    finals = []
    for seed in range(2):
        strategy = rlnas.make_strategy(
            name,
            layered_space(),
            seed=seed,
            options=OPTIONS.get(name, {}),
            episodes=GROWING,
        )
        number = 0
        for _ in range(60):  # episodes
            draft = None
            while draft is None or draft.asked < len(draft.points):
                [architecture] = strategy.ask(1)
                draft = strategy.episodes.drafts[strategy.episodes.next_id - 1]
                strategy.tell(architecture, trial(number, architecture))
                number += 1
            finals.append(value(architecture))
    late = finals[40:60] + finals[100:]
    assert sum(late) / len(late) > 0.3


@pytest.mark.parametrize("name", PROGRESSIVE)
def test_steps_asked_together_may_be_told_in_any_order(name: str) -> None:
    strategy = rlnas.make_strategy(name, layered_space(), seed=1, episodes=GROWING)
    asked = strategy.ask(8)
    for number, architecture in reversed(list(enumerate(asked))):
        strategy.tell(architecture, trial(number, architecture))
    assert not strategy.episodes.pending
    drafts = list(strategy.episodes.drafts.values())
    assert len(drafts) <= 1  # only an episode whose steps were not all asked yet stays open
    assert all(result is not None for draft in drafts for result in draft.results[: draft.asked])
