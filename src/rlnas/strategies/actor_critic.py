"""Advantage actor-critic over an LSTM controller with a value head.

An episode is one architecture, built decision by decision, with one terminal reward and no
discount, so every decision's return is the architecture's shaped reward ``R``.
Data: each told architecture with its shaped reward, collected until ``batch_size`` are in.
Loss: the critic ``V_t`` predicts ``R`` from the LSTM's hidden state before decision ``t`` (the
partial architecture); the actor's advantage at ``t`` is ``R - V_t``, which replaces REINFORCE's
moving-average baseline with one that knows the decisions already made. Policy loss
``-sum_t log_prob_t * (R - V_t)``, plus ``value_weight`` times the squared error of ``V_t``,
minus an entropy bonus.
Update: one Adam step over policy and critic (they share the LSTM), then the batch is cleared.
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


class ActorCritic(Strategy):
    """Actor-critic search (the A2C loss of Mnih et al., 2016, with one terminal reward).

    ``value_weight`` scales the critic's squared error against the policy loss (A2C: 0.5); a
    smaller weight (0.1) keeps the critic's error, large while it has seen few rewards, from
    swamping the policy's gradient in the shared LSTM. The other hyper-parameters mean what they
    mean in ``REINFORCE``. Defaults were chosen by mean validation regret on NAS-Bench-Graph at
    a budget of 100 architectures; there actor-critic trails REINFORCE and PPO: ~100 rewards
    are too few to train a critic that beats a moving average.
    """

    name = "actor-critic"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        learning_rate: float = 0.03,
        batch_size: int = 1,
        value_weight: float = 0.1,
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
        self.value_weight = value_weight
        self.entropy_weight = entropy_weight
        self.generator = torch.Generator().manual_seed(seed)
        self.policy = LSTMPolicy(
            space,
            hidden_size=hidden_size,
            temperature=temperature,
            tanh_constant=tanh_constant,
            value_head=True,
            generator=self.generator,
        )
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=learning_rate, foreach=True)
        self.shaper = RewardShaper(reward_shaping)
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
        rewards = torch.tensor([reward for _, reward in self.batch])[:, None]  # [batch, 1]
        scored = self.policy(architectures)
        values = scored.values  # [batch, decisions]: predicted reward of each partial architecture
        assert values is not None
        advantages = (rewards - values).detach()
        policy_loss = -(scored.step_log_probs * advantages).sum(dim=1).mean()
        value_loss = (rewards - values).pow(2).sum(dim=1).mean()
        entropy = scored.entropy.mean()
        loss = policy_loss + self.value_weight * value_loss - self.entropy_weight * entropy
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.batch = []

    def diagnostics(self) -> dict[str, Any]:
        return self.policy.diagnostics()

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "policy": {k: v.detach().clone() for k, v in self.policy.state_dict().items()},
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),
            "generator": self.generator.get_state(),
            "shaper": self.shaper.state_dict(),
            "batch": [(dict(arch.choices), reward) for arch, reward in self.batch],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        self.shaper.load_state_dict(state["shaper"])
        self.batch = [(self.space.architecture(c), float(r)) for c, r in state["batch"]]
