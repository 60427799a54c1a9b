"""REINFORCE with a moving-average baseline (Zoph & Le, ICLR 2017; ENAS, Pham et al., ICML 2018).

Data: each finished episode (``Episodes``) with the return of every decision, collected until
``batch_size`` are in. One-shot, an episode is one architecture and every decision's return is its
shaped reward; progressive, a decision's return is the discounted sum of the step rewards from
its growth step on.
Loss: ``-sum_t log_prob_t * (return_t - baseline)`` averaged over the batch, minus an entropy
bonus; the baseline is an exponential moving average of the episodes' whole returns.
Plus the imitation of the best walks evaluated so far (``PolicySearch.score``).
Update: one Adam step, then the batch is cleared.
"""

from __future__ import annotations

from typing import Any

import torch

from rlnas.space import Architecture, SearchSpace
from rlnas.strategies.policy_search import BaselineDecay, PolicySearch
from rlnas.trial import Trial


class REINFORCE(PolicySearch):
    """Policy-gradient search with an LSTM controller.

    Defaults were chosen by mean validation regret on NAS-Bench-Graph at a budget of 100
    architectures: a learning rate far above ENAS's 3.5e-4, because here the controller gets ~100
    rewards, not ~10^5 (0.003 searched worse, 0.03 no better); an update after every reward
    (``batch_size`` 5 searched worse). ``baseline_decay`` is the moving average's decay (ENAS:
    0.99). ``policy``: the keywords of ``PolicySearch`` (learning rate, batch size, entropy
    bonus, LSTM size, logit shaping, reward shaping, episodes).
    """

    name = "reinforce"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        baseline_decay: BaselineDecay = 0.99,
        **policy: Any,
    ) -> None:
        super().__init__(space, seed, **policy)
        self.baseline_decay = baseline_decay

    def tell(self, architecture: Architecture, trial: Trial) -> None:
        for episode in self.episodes.tell(architecture, trial, self.shaper):
            self.collect(episode, (episode.walk, self.episodes.returns(episode)))

    def update(self) -> None:
        # the batch: (walk, return per decision) of each episode
        walks = [walk for walk, _ in self.batch]
        returns = torch.tensor([returns for _, returns in self.batch])  # [batch, decisions]
        whole = [returns[0] for _, returns in self.batch]
        advantages = returns - self.update_baseline(whole, self.baseline_decay)
        scored, imitation = self.score(walks)
        policy_loss = -(scored.step_log_probs * advantages).sum(dim=1).mean()
        entropy = scored.entropy.mean()
        self.step(policy_loss - self.entropy_weight * entropy + imitation)
