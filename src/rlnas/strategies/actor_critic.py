"""Advantage actor-critic over an LSTM controller with a value head.

One-shot, an episode is one architecture, built decision by decision, with one terminal reward and
no discount, so every decision's return ``R_t`` is the architecture's shaped reward. Progressive,
``R_t`` is the discounted sum of the step rewards from decision ``t``'s growth step on
(``Episodes``).
Data: each finished episode with every decision's return, collected until ``batch_size`` are in.
Loss: the critic ``V_t`` predicts ``R_t`` from the LSTM's hidden state before decision ``t`` (the
partial architecture); the actor's advantage at ``t`` is ``R_t - V_t``, which replaces REINFORCE's
moving-average baseline with one that knows the decisions already made. Policy loss
``-sum_t log_prob_t * (R_t - V_t)``, plus ``value_weight`` times the squared error of ``V_t`` over
the decisions chosen, minus an entropy bonus.
Plus the imitation of the best walks evaluated so far (``PolicySearch.score``).
Update: one Adam step over policy and critic (they share the LSTM), then the batch is cleared.
"""

from __future__ import annotations

from typing import Annotated, Any

import torch
from pydantic import Field

from rlnas.space import Architecture, SearchSpace
from rlnas.strategies.policy_search import LearningRate, PolicySearch
from rlnas.trial import Trial


class ActorCritic(PolicySearch):
    """Actor-critic search (the A2C loss of Mnih et al., 2016, with one terminal reward).

    ``value_weight`` scales the critic's squared error against the policy loss (A2C: 0.5); a
    smaller weight (0.1) keeps the critic's error, large while it has seen few rewards, from
    swamping the policy's gradient in the shared LSTM. The other hyper-parameters mean what they
    mean in ``REINFORCE``. Defaults were chosen by mean validation regret on NAS-Bench-Graph at
    a budget of 100 architectures (a learning rate of 0.03); there actor-critic trails REINFORCE
    and PPO: ~100 rewards are too few to train a critic that beats a moving average.
    ``policy``: the keywords of ``PolicySearch``.
    """

    name = "actor-critic"
    value_head = True

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        value_weight: Annotated[
            float, Field(ge=0, le=1000, description="Weight of the critic's squared error.")
        ] = 0.1,
        learning_rate: LearningRate = 0.03,
        **policy: Any,
    ) -> None:
        super().__init__(space, seed, learning_rate=learning_rate, **policy)
        self.value_weight = value_weight

    def tell(self, architecture: Architecture, trial: Trial) -> None:
        for episode in self.episodes.tell(architecture, trial, self.shaper):
            self.collect(episode, (episode.walk, self.episodes.returns(episode), episode.length))

    def update(self) -> None:
        # the batch: (walk, return per decision, decisions chosen) of each episode
        walks = [walk for walk, _, _ in self.batch]
        returns = torch.tensor([returns for _, returns, _ in self.batch])  # [batch, decisions]
        chosen = self.chosen([length for *_, length in self.batch])
        scored, imitation = self.score(walks)
        values = scored.values  # [batch, decisions]: predicted return of each partial walk
        assert values is not None
        advantages = (returns - values).detach()
        policy_loss = -(scored.step_log_probs * advantages).sum(dim=1).mean()
        value_loss = ((returns - values).pow(2) * chosen).sum(dim=1).mean()
        entropy = scored.entropy.mean()
        loss = policy_loss + self.value_weight * value_loss - self.entropy_weight * entropy
        self.step(loss + imitation)
