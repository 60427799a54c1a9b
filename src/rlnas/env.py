"""Architecture design as a Gymnasium environment, so that an outside agent can drive the search.

An episode makes a space's decisions one per step. One-shot, the reward is the finished
architecture's reward at the last step (0 before). Progressive (``rlnas.space.growth``), the
decisions are those of a growing network, with a stop decision after every growth step; after
each step whose network is valid the network is evaluated and rewarded (its reward, or its
improvement over the step before, minus ``step_cost``), and choosing stop ends the episode.

Observation: the one-hot option of every decision made so far, followed by the one-hot position
of the next decision (all zeros once the episode is over), as a float32 ``Box``.
Action: ``Discrete(n)`` with ``n`` the largest option count of a decision; action ``i`` picks
option ``i`` of the current decision (at a stop decision 0 continues and 1 stops). Options that
do not exist or that the space forbids are masked: ``action_masks()`` (the method sb3-contrib's
MaskablePPO reads) and ``info["action_mask"]`` give the mask of the next decision. An agent that
ignores the mask is not refused: an invalid action ``i`` takes the open option ``i mod k`` (of
the ``k`` open ones) and ``info["invalid_action"]`` is True, so plain PPO or DQN still run.
Evaluations are cached by architecture key, as in ``rlnas.search``; ``evaluations`` counts the
distinct architectures evaluated.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium
import numpy as np
from gymnasium import spaces

from rlnas.estimators.tabular import is_benchmark
from rlnas.evaluator import Evaluator
from rlnas.rewards import Objective
from rlnas.space import Architecture, SearchSpace
from rlnas.space.growth import STOP, episode_space, partial
from rlnas.strategies.episodes import EpisodeSettings, StepReward, step_rewards


class ArchitectureEnv(gymnasium.Env):
    """Build an architecture of ``space`` decision by decision; ``evaluate`` scores it.

    ``objective`` is a metric name (maximized) or an Objective. ``episodes`` says one-shot or
    progressive and how a progressive step is rewarded (its discount is the agent's own). A
    failed evaluation (the evaluator raises or the metric is missing or not finite) is worth
    ``failure_value``.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        space: SearchSpace,
        evaluate: Evaluator,
        objective: str | Objective = "accuracy",
        episodes: EpisodeSettings | None = None,
        failure_value: float = 0.0,
    ) -> None:
        episodes = episodes or EpisodeSettings()
        self.grown = space
        self.evaluate = evaluate
        self.progressive = episodes.progressive
        self.space = episode_space(space) if self.progressive else space
        self.objective = objective if isinstance(objective, Objective) else Objective(objective)
        self.step_reward: StepReward = episodes.step_reward
        self.step_cost = episodes.step_cost
        self.failure_value = failure_value
        sizes = [len(choice.options) for choice in self.space.choices]
        self._offsets = np.cumsum([0, *sizes[:-1]])
        self.action_space = spaces.Discrete(max(sizes))
        size = sum(sizes) + len(sizes)
        self.observation_space = spaces.Box(0.0, 1.0, (size,), dtype=np.float32)
        self.cache: dict[str, float | None] = {}
        self.made: dict[str, Any] = {}
        self.chosen: list[int] = []  # the option index of each decision made
        self.values: list[float] = []  # the value of each network evaluated this episode

    @property
    def evaluations(self) -> int:
        return len(self.cache)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.made, self.chosen, self.values = {}, [], []
        return self._observation(), {"action_mask": self.action_masks()}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        mask = self.action_masks()
        open_ = np.flatnonzero(mask)
        invalid = not (0 <= int(action) < len(mask) and mask[int(action)])
        index = int(open_[int(action) % len(open_)]) if invalid else int(action)
        choice = self.space.choices[len(self.made)]
        self.made[choice.name] = choice.options[index]
        self.chosen.append(index)
        info: dict[str, Any] = {"invalid_action": invalid}
        reward = 0.0
        stopped = choice.name.startswith(STOP) and bool(self.made[choice.name])
        if not stopped and self._ends_step():
            architecture = self._network()
            if architecture is not None:
                reward = self._reward(architecture)
                info["architecture"] = architecture
        finished = stopped or len(self.made) == len(self.space)
        if not finished and not self.action_masks().any():  # a dead end the masks missed
            info["dead_end"] = finished = True
        info["action_mask"] = self.action_masks()
        return self._observation(), reward, finished, False, info

    def action_masks(self) -> np.ndarray:
        """True for each action that picks an open option of the current decision."""
        mask = np.zeros(self.action_space.n, dtype=bool)
        if len(self.made) < len(self.space):
            open_ = self.space.open_mask(self.made)
            mask[: len(open_)] = open_
        return mask

    # --- internals -------------------------------------------------------------------------------
    def _ends_step(self) -> bool:
        """Whether the decision just made completes a network that is evaluated."""
        done = len(self.made)
        if not self.progressive:
            return done == len(self.space)
        return done == len(self.space) or self.space.choices[done].name.startswith(STOP)

    def _network(self) -> Architecture | None:
        if not self.progressive:
            return self.space.architecture(self.made)
        own = {name: option for name, option in self.made.items() if not name.startswith(STOP)}
        return partial(self.grown, own)

    def _reward(self, architecture: Architecture) -> float:
        if architecture.key not in self.cache:
            try:
                self.cache[architecture.key] = self.objective.reward(self.evaluate(architecture))
            except Exception:  # the evaluator is user code: a failure is data
                self.cache[architecture.key] = None
        value = self.cache[architecture.key]
        self.values.append(self.failure_value if value is None else value)
        if not self.progressive:
            return self.values[-1]
        return step_rewards(self.values, self.step_reward, self.step_cost)[-1]

    def _observation(self) -> np.ndarray:
        observation = np.zeros(self.observation_space.shape, dtype=np.float32)
        observation[self._offsets[: len(self.chosen)] + np.array(self.chosen, dtype=int)] = 1.0
        if len(self.made) < len(self.space):
            observation[-len(self.space) + len(self.made)] = 1.0
        return observation


def make(name: str, **settings: Any) -> ArchitectureEnv:
    """An environment for any benchmark (``nbg:cora``) or task (``digits``) a search accepts.

    ``settings`` are those of a search (``rlnas.SearchConfig``): what is searched (``space``,
    ``target``, ``epochs``, ``data_fraction``, ``seed``...) and the episodes (``mode``,
    ``step_reward``, ``step_cost``), the training recipe and the device. A task trains each
    architecture for ``epochs`` (default 1: low fidelity, since an agent asks for many).
    """
    from rlnas.config import SearchConfig
    from rlnas.devices import DeviceSettings
    from rlnas.estimators.recipe import TrainingRecipe
    from rlnas.problems import ProblemSettings, load_problem

    searched = {"benchmark": name} if is_benchmark(name) else {"task": name}
    config = SearchConfig(**{"epochs": 1, **settings, **searched})
    problem = load_problem(
        ProblemSettings.of(config),
        config.seed,
        TrainingRecipe.of(config),
        DeviceSettings.of(config),
    )
    episodes = EpisodeSettings.of(config)
    return ArchitectureEnv(problem.space, problem.evaluate, problem.objective, episodes)
