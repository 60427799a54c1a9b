"""REINFORCE with a moving-average baseline (Zoph & Le, ICLR 2017; ENAS, Pham et al., ICML 2018).

Data: each told architecture with its shaped reward, collected until ``batch_size`` are in.
Loss: ``-(log_prob(architecture) * (reward - baseline))`` averaged over the batch, minus an
entropy bonus; the baseline is an exponential moving average of the shaped rewards.
Update: one Adam step, then the batch is cleared.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from rlnas.controllers.lstm_policy import LSTMPolicy
from rlnas.space import Architecture, SearchSpace
from rlnas.strategies.base import Strategy
from rlnas.strategies.reward_shaping import RewardShaper, ShapingMode
from rlnas.trial import Trial


class REINFORCE(Strategy):
    """Policy-gradient search with an LSTM controller.

    Defaults were chosen by mean validation regret on NAS-Bench-Graph at a budget of 100
    architectures: a learning rate far above ENAS's 3.5e-4, because here the controller gets ~100
    rewards, not ~10^5 (0.003 searched worse, 0.03 no better); an update after every reward
    (``batch_size`` 5 searched worse). ``baseline_decay`` is the moving average's decay (ENAS:
    0.99); ``entropy_weight`` the entropy bonus (ENAS: 1e-4); ``temperature`` and
    ``tanh_constant`` shape the logits as ``c * tanh(l / T)`` (ENAS: 5 and 2.5; None disables,
    and without them the policy collapsed onto a few architectures within ~35 trials);
    ``reward_shaping`` is how raw rewards are put on one scale (``RewardShaper``; rank beat
    normalize).
    """

    name = "reinforce"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        learning_rate: float = 0.01,
        batch_size: int = 1,
        baseline_decay: float = 0.99,
        entropy_weight: float = 1e-4,
        hidden_size: int = 64,
        temperature: float | None = 5.0,
        tanh_constant: float | None = 2.5,
        reward_shaping: ShapingMode = "rank",
    ) -> None:
        super().__init__(space, seed)
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.baseline_decay = baseline_decay
        self.entropy_weight = entropy_weight
        self.generator = torch.Generator().manual_seed(seed)
        self.policy = LSTMPolicy(
            space,
            hidden_size=hidden_size,
            temperature=temperature,
            tanh_constant=tanh_constant,
            generator=self.generator,
        )
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=learning_rate, foreach=True)
        self.shaper = RewardShaper(reward_shaping)
        self.baseline: float | None = None
        self.batch: list[tuple[Architecture, float]] = []

    def ask(self, n: int = 1) -> list[Architecture]:
        return [self.policy.sample(self.generator).architecture for _ in range(n)]

    def tell(self, architecture: Architecture, trial: Trial) -> None:
        # a repeat from the cache is learned from again but does not count twice in the statistics
        reward = self.shaper(trial)
        self.batch.append((architecture, reward))
        if len(self.batch) >= self.batch_size:
            self._update()

    def _update(self) -> None:
        architectures = [architecture for architecture, _ in self.batch]
        rewards = torch.tensor([reward for _, reward in self.batch])
        for reward in rewards.tolist():
            if self.baseline is None:
                self.baseline = reward
            else:
                self.baseline += (1 - self.baseline_decay) * (reward - self.baseline)
        advantages = rewards - self.baseline
        scored = self.policy(architectures)
        loss = -(scored.log_prob * advantages).mean() - self.entropy_weight * scored.entropy.mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.batch = []

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
            "batch": [(dict(arch.choices), reward) for arch, reward in self.batch],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        self.shaper.load_state_dict(state["shaper"])
        self.baseline = state["baseline"]
        self.batch = [(self.space.architecture(c), float(r)) for c, r in state["batch"]]
