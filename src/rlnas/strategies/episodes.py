"""Episodes of the learning strategies, one-shot or progressive, and their per-step returns.

One-shot (the default): an episode is one complete architecture with one terminal reward.
Progressive (MetaQNN, Baker et al., ICLR 2017): an episode grows a network step by step over
``rlnas.space.growth.episode_space``; the strategy's controller draws the whole episode, a *walk*
through that space, and ``ask`` hands out the network after each of its steps in turn. Results
may come back in any order (several asks may be in flight), so each asked architecture is keyed
to its episode and step; an episode is complete, and learned from, once all its steps are told.

Per-step rewards: ``metric`` rewards each step with its shaped reward, ``improvement`` with its
gain over the step before (the sum telescopes to the final network's reward); either minus
``step_cost``. Returns are discounted once per growth step by ``discount``. Every decision of
the walk gets the return of the step it belongs to, the credit a policy gradient or a Q backup
needs; decisions after a stop were forced and are not learned from (``Episode.length``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from rlnas.settings import Settings
from rlnas.space import Architecture, SearchSpace
from rlnas.space.growth import Point, episode_space, points
from rlnas.strategies.reward_shaping import RewardShaper
from rlnas.trial import Trial

Mode = Literal["one-shot", "progressive"]
StepReward = Literal["metric", "improvement"]


class EpisodeSettings(Settings):
    """What an episode of a learning strategy is, and how its steps are rewarded."""

    mode: Mode = Field(
        "one-shot",
        description="one-shot: an episode is a whole architecture; progressive: it grows a "
        "network step by step, every step evaluated.",
    )
    step_reward: StepReward = Field(
        "improvement",
        description="Progressive: a step earns its metric, or its improvement on the step before.",
    )
    step_cost: float = Field(
        0.0, description="Progressive: subtracted from every step's reward (favours small nets)."
    )
    discount: float = Field(
        1.0, ge=0.0, le=1.0, description="Discount per growth step (per decision when one-shot)."
    )

    @property
    def progressive(self) -> bool:
        return self.mode == "progressive"


@dataclass(frozen=True)
class Episode:
    """A finished episode: its walk and, per evaluated step, where it was and what it earned."""

    walk: Architecture  # an architecture of ``Episodes.space``
    points: tuple[int, ...]  # the decision index after which each step was evaluated
    raw: tuple[float | None, ...]  # each step's raw reward; None if its trial failed
    shaped: tuple[float, ...]  # each step's shaped reward when it was told
    length: int  # decisions the controller chose: through the stop, or all
    cached: bool  # every step was answered from the cache: nothing new was learned


@dataclass
class _Draft:
    """An episode in progress: its steps, how many were asked, the results told so far."""

    walk: Architecture
    points: list[Point]
    length: int
    asked: int = 0
    results: list[tuple[float | None, float, bool] | None] = field(default_factory=list)


def step_rewards(values: Sequence[float], step_reward: StepReward, step_cost: float) -> list[float]:
    """Each step's reward from the value of the network after it (before the first: 0)."""
    previous = [0.0, *values[:-1]]
    if step_reward == "metric":
        return [value - step_cost for value in values]
    return [value - before - step_cost for value, before in zip(values, previous)]


class Episodes:
    """The episode bookkeeping a learning strategy delegates to; ``space`` is what it walks.

    ``settings`` say one-shot or progressive, and shape progressive returns (in one-shot mode
    ``discount`` applies per decision, as MetaQNN's Q-learning did per layer).
    """

    def __init__(self, space: SearchSpace, settings: EpisodeSettings | None = None) -> None:
        settings = settings or EpisodeSettings()
        self.settings = settings
        self.grown = space
        self.progressive = settings.progressive
        self.space = episode_space(space) if self.progressive else space
        self.step_reward: StepReward = settings.step_reward
        self.step_cost = settings.step_cost
        self.discount = settings.discount
        self.drafts: dict[int, _Draft] = {}
        self.pending: dict[Architecture, list[tuple[int, int]]] = {}  # asked -> (episode, step)
        self.next_id = 0

    # --- acting ----------------------------------------------------------------------------------
    def ask(self, n: int, propose: Callable[[], Architecture]) -> list[Architecture]:
        """The next ``n`` architectures to evaluate; ``propose`` draws a new walk when needed."""
        if not self.progressive:
            return [propose() for _ in range(n)]
        asked = []
        for _ in range(n):
            current = self.drafts.get(self.next_id - 1)
            if current is None or current.asked == len(current.points):
                walk = propose()
                found, length = points(self.grown, walk)
                current = _Draft(walk, found, length, results=[None] * len(found))
                self.drafts[self.next_id] = current
                self.next_id += 1
            point = current.points[current.asked]
            where = (self.next_id - 1, current.asked)
            self.pending.setdefault(point.architecture, []).append(where)
            current.asked += 1
            asked.append(point.architecture)
        return asked

    # --- learning --------------------------------------------------------------------------------
    def tell(self, architecture: Architecture, trial: Trial, shaper: RewardShaper) -> list[Episode]:
        """Record a result (shaped by ``shaper``); the episodes it completes, if any."""
        shaped = shaper(trial)
        if not self.progressive:
            n = len(self.space)
            return [Episode(architecture, (n - 1,), (trial.reward,), (shaped,), n, trial.cached)]
        waiting = self.pending.get(architecture)
        if not waiting:  # not asked by this strategy: no episode to credit
            return []
        number, step = waiting.pop(0)
        if not waiting:
            del self.pending[architecture]
        draft = self.drafts[number]
        draft.results[step] = (trial.reward, shaped, trial.cached)
        if any(result is None for result in draft.results):
            return []
        del self.drafts[number]
        return [self._finished(draft)]

    def rewards(self, episode: Episode, shaped: Sequence[float] | None = None) -> list[float]:
        """The reward of every decision of the walk: a step's reward at its point, else 0."""
        values = list(episode.shaped if shaped is None else shaped)
        per_step = step_rewards(values, self.step_reward, self.step_cost)
        rewards = [0.0] * len(self.space)
        for index, reward in zip(episode.points, per_step):
            rewards[index] = reward
        return rewards

    def discounts(self, episode: Episode) -> list[float]:
        """The discount between each decision and the next: per growth step when progressive."""
        if not self.progressive:
            return [self.discount] * len(self.space)
        discounts = [1.0] * len(self.space)
        for index in episode.points:
            discounts[index] = self.discount
        return discounts

    def returns(self, episode: Episode, shaped: Sequence[float] | None = None) -> list[float]:
        """The discounted return from every decision on (0 after the episode's length)."""
        rewards, discounts = self.rewards(episode, shaped), self.discounts(episode)
        returns = [0.0] * len(self.space)
        following = 0.0
        for index in reversed(range(episode.length)):
            following = rewards[index] + discounts[index] * following
            returns[index] = following
        return returns

    def reshaped(self, episode: Episode, shaper: RewardShaper) -> list[float]:
        """The episode's step rewards shaped under today's statistics (for replay and refits)."""
        failure = shaper.failure_reward()
        return [shaper.transform(failure if raw is None else raw) for raw in episode.raw]

    # --- persistence -----------------------------------------------------------------------------
    def episode_state(self, episode: Episode) -> dict[str, Any]:
        return {
            "walk": episode.walk,
            "raw": list(episode.raw),
            "shaped": list(episode.shaped),
            "cached": episode.cached,
        }

    def load_episode(self, state: dict[str, Any]) -> Episode:
        walk = state["walk"]
        raw = tuple(None if r is None else float(r) for r in state["raw"])
        shaped = tuple(float(s) for s in state["shaped"])
        if self.progressive:
            found, length = points(self.grown, walk)
            indices = tuple(point.index for point in found)
        else:
            indices, length = (len(self.space) - 1,), len(self.space)
        return Episode(walk, indices, raw, shaped, length, bool(state["cached"]))

    def state_dict(self) -> dict[str, Any]:
        drafts = [
            (number, d.walk, d.asked, [r and list(r) for r in d.results])
            for number, d in self.drafts.items()
        ]
        return {"drafts": drafts, "next_id": self.next_id}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore; what is pending follows from the drafts, asked in (episode, step) order."""
        self.drafts, self.pending = {}, {}
        self.next_id = int(state["next_id"])
        for number, walk, asked, results in sorted(state["drafts"], key=lambda d: d[0]):
            found, length = points(self.grown, walk)
            told = [None if r is None else (r[0], float(r[1]), bool(r[2])) for r in results]
            self.drafts[int(number)] = _Draft(walk, found, length, int(asked), told)
            for step in range(int(asked)):
                if told[step] is None:
                    key = found[step].architecture
                    self.pending.setdefault(key, []).append((int(number), step))

    def _finished(self, draft: _Draft) -> Episode:
        results = [result for result in draft.results if result is not None]
        return Episode(
            draft.walk,
            tuple(point.index for point in draft.points),
            tuple(raw for raw, _, _ in results),
            tuple(shaped for _, shaped, _ in results),
            draft.length,
            all(cached for _, _, cached in results),
        )
