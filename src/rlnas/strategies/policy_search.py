"""What every strategy that trains the LSTM controller shares, so each algorithm file holds only
its own data, loss and update: the policy, its Adam optimizer, the sampling generator, the reward
shaper, an optional moving-average baseline and the episodes (one-shot or progressive), and saving
and restoring all of them.
"""

from __future__ import annotations

import copy
from abc import abstractmethod
from typing import Annotated, Any, ClassVar

import torch
from pydantic import Field

from rlnas.controllers.lstm_policy import LSTMPolicy
from rlnas.space import Architecture, SearchSpace
from rlnas.strategies.base import Strategy
from rlnas.strategies.episodes import Episodes, EpisodeSettings
from rlnas.strategies.neighbours import new_neighbour
from rlnas.strategies.reward_shaping import RewardShaper, RewardShaping

LearningRate = Annotated[float, Field(gt=0, le=1, description="Adam's step size.")]
BatchSize = Annotated[
    int, Field(ge=1, le=100_000, description="Finished episodes collected before an update.")
]
BaselineDecay = Annotated[
    float, Field(ge=0, le=1, description="Decay of the moving-average baseline of returns.")
]


class PolicySearch(Strategy):
    """Base of ``REINFORCE``, ``PPO`` and ``ActorCritic``: an LSTM policy proposes architectures.

    The keywords here are shared by the three, which take them as ``**policy``:
    ``learning_rate`` of Adam (an algorithm may declare its own default);
    ``batch_size``, the finished episodes collected before an update (likewise);
    ``entropy_weight``, the entropy bonus (ENAS: 1e-4);
    ``hidden_size`` is the LSTM width; ``temperature`` and ``tanh_constant`` shape the logits as
    ``c * tanh(l / T)`` (ENAS: 5 and 2.5; None disables, and without them the policy collapsed
    onto a few architectures within ~35 trials); ``reward_shaping`` puts raw rewards on one scale
    (``RewardShaper``; rank beat normalize); ``episodes`` chooses one-shot or progressive episodes
    and their per-step returns (``EpisodeSettings``); the policy walks ``episodes.space``.
    ``avoid_repeats``: a drawn walk proposed before is replaced by its nearest new neighbour
    (``strategies/neighbours.py``), so a converged policy keeps proposing new architectures
    near its mode instead of repeats (on a chain of 8 three-way decisions, ``reinforce`` and
    ``ppo`` otherwise stopped after ~95 distinct architectures in 1,000 proposals; with it they
    proposed 910 and 964 on ``syn:chain8``, ``benchmarks/tabular_strategies.py``). One-shot
    only: progressive walks that regrow a known network are answered from the cache step by
    step, and replacing them kept the policies from settling on the best growth.
    """

    progressive = True
    value_head: ClassVar[bool] = False
    """Whether the policy has a value head (the critic of actor-critic)."""

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        learning_rate: LearningRate = 0.01,
        batch_size: BatchSize = 1,
        entropy_weight: Annotated[
            float, Field(ge=0, le=100, description="Weight of the policy's entropy bonus.")
        ] = 1e-4,
        hidden_size: Annotated[
            int, Field(ge=1, le=4096, description="Width of the controller's LSTM.")
        ] = 64,
        temperature: Annotated[
            float | None, Field(gt=0, le=1e6, description="T of the logits' c * tanh(l / T).")
        ] = 5.0,
        tanh_constant: Annotated[
            float | None, Field(gt=0, le=1e6, description="c of the logits' c * tanh(l / T).")
        ] = 2.5,
        reward_shaping: RewardShaping = "rank",
        episodes: EpisodeSettings | None = None,
        avoid_repeats: Annotated[
            bool, Field(description="Replace a repeated walk by its nearest new neighbour.")
        ] = True,
    ) -> None:
        super().__init__(space, seed)
        self.batch_size = batch_size
        self.avoid_repeats = avoid_repeats
        self.proposed: set[str] = set()  # keys of the walks proposed so far
        self.learning_rate = learning_rate
        self.entropy_weight = entropy_weight
        self.batch: list[tuple] = []
        """What each finished episode of the batch holds: the algorithm's own tuple."""
        self.episodes = Episodes(space, episodes)
        self.generator = torch.Generator().manual_seed(seed)
        self.policy = LSTMPolicy(
            self.episodes.space,
            hidden_size=hidden_size,
            temperature=temperature,
            tanh_constant=tanh_constant,
            value_head=self.value_head,
            generator=self.generator,
        )
        self.optimizer = torch.optim.Adam(
            self.policy.parameters(), lr=self.learning_rate, foreach=True
        )
        self.shaper = RewardShaper(reward_shaping)
        self.baseline: float | None = None

    def ask(self, n: int = 1) -> list[Architecture]:
        return self.episodes.ask(n, self.propose)

    def propose(self) -> Architecture:
        """A new walk drawn from the policy: an architecture, or a progressive episode."""
        return self.draw()[0]

    def draw(self) -> tuple[Architecture, list[float] | None]:
        """A walk and its per-decision log-probabilities, or a new neighbour of a repeat.

        A neighbour was not drawn by the policy: its log-probabilities are None.
        """
        sample = self.policy.sample(self.generator)
        walk = sample.architecture
        if self.avoid_repeats and not self.episodes.progressive and walk.key in self.proposed:
            neighbour = new_neighbour(self.episodes.space, walk, self.proposed, self.rng)
            if neighbour is not None:
                self.proposed.add(neighbour.key)
                return neighbour, None
        self.proposed.add(walk.key)
        return walk, list(sample.step_log_probs)

    def collect(self, entry: tuple) -> None:
        """Add a finished episode to the batch; once it is full, learn from it and clear it."""
        self.batch.append(entry)
        if len(self.batch) >= self.batch_size:
            self.update()
            self.batch = []

    @abstractmethod
    def update(self) -> None:
        """The algorithm's loss and optimizer step(s) on the full ``batch``."""

    def update_baseline(self, rewards: list[float], decay: float) -> float:
        """Fold ``rewards`` into the exponential moving average of rewards and return it."""
        for reward in rewards:
            if self.baseline is None:
                self.baseline = reward
            else:
                self.baseline += (1 - decay) * (reward - self.baseline)
        assert self.baseline is not None
        return self.baseline

    def chosen(self, lengths: list[int]) -> torch.Tensor:
        """[episodes, decisions] mask of the decisions each walk chose (not forced after a stop)."""
        return torch.arange(len(self.episodes.space))[None, :] < torch.tensor(lengths)[:, None]

    def step(self, loss: torch.Tensor) -> None:
        """One optimizer step on ``loss``."""
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

    def diagnostics(self) -> dict[str, Any]:
        diagnostics = self.policy.diagnostics()
        if self.baseline is not None:
            diagnostics["baseline"] = self.baseline
        return diagnostics

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "policy": {k: v.detach().clone() for k, v in self.policy.state_dict().items()},
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),
            "generator": self.generator.get_state(),
            "shaper": self.shaper.state_dict(),
            "baseline": self.baseline,
            "episodes": self.episodes.state_dict(),
            "batch": list(self.batch),
            "proposed": sorted(self.proposed),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        self.shaper.load_state_dict(state["shaper"])
        self.baseline = state["baseline"]
        self.episodes.load_state_dict(state["episodes"])
        self.batch = [tuple(entry) for entry in state["batch"]]
        self.proposed = set(state["proposed"])
