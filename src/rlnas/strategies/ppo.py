"""Proximal policy optimization of an LSTM controller (Schulman et al., 2017; NASNet, Zoph et al.,
CVPR 2018, trained its controller with PPO).

Data: when a walk is drawn, the log-probability of each of its decisions under the policy that
drew it is kept, keyed by walk (results may come back in any order); a finished episode
(``Episodes``) moves the walk, the return of every decision and those old log-probabilities into
the batch. One-shot, the walk is the architecture and every return its shaped reward. A repeat
told from the cache with no pending proposal uses the current policy's log-probabilities.
Loss: per decision ``t``, the clipped surrogate ``-min(ratio_t * A_t, clip(ratio_t, 1 - e,
1 + e) * A_t)`` with ``ratio_t = exp(new_log_prob_t - old_log_prob_t)``, summed over the walk,
minus an entropy bonus. The advantage ``A_t`` is the return minus a moving-average baseline,
normalized over the batch's chosen decisions.
Plus the imitation of the best walks evaluated so far (``PolicySearch.score``).
Update: ``epochs`` Adam steps over each full batch of ``batch_size`` episodes.
"""

from __future__ import annotations

from typing import Annotated, Any

import torch
from pydantic import Field

from rlnas.space import Architecture, SearchSpace
from rlnas.strategies.episodes import Episode
from rlnas.strategies.policy_search import BaselineDecay, BatchSize, PolicySearch
from rlnas.trial import Trial

Row = tuple[Architecture, list[float], list[float] | None, int]
"""A batch row: walk, return per decision, old log-prob per decision (None: not drawn by the
policy; filled in under the current policy at the update), decisions chosen."""


class PPO(PolicySearch):
    """Clipped policy-gradient search with an LSTM controller.

    ``clip`` is PPO's epsilon (0.2 in the paper); each batch is reused for ``epochs`` steps,
    which the clip keeps from moving the policy too far from the one that sampled it.
    ``normalize_advantages`` z-scores the advantages within a batch (PPO's usual practice).
    The other hyper-parameters mean what they mean in ``REINFORCE``. Defaults were chosen by mean
    validation regret on NAS-Bench-Graph at a budget of 100 architectures (batches of 2 and
    normalize shaping searched worse; 8 epochs or a learning rate of 0.03 no better).
    ``policy``: the keywords of ``PolicySearch``.
    """

    name = "ppo"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        epochs: Annotated[int, Field(ge=1, le=1000, description="Adam steps on each batch.")] = 4,
        clip: Annotated[
            float, Field(gt=0, lt=1, description="PPO's epsilon: how far the ratio may move.")
        ] = 0.2,
        baseline_decay: BaselineDecay = 0.9,
        normalize_advantages: Annotated[
            bool, Field(description="Z-score the advantages within a batch.")
        ] = True,
        batch_size: BatchSize = 5,
        **policy: Any,
    ) -> None:
        super().__init__(space, seed, batch_size=batch_size, **policy)
        self.epochs = epochs
        self.clip = clip
        self.baseline_decay = baseline_decay
        self.normalize_advantages = normalize_advantages
        self.pending: dict[Architecture, list[float]] = {}  # walk -> log-probs when drawn

    def propose(self) -> Architecture:
        walk, log_probs = self.draw()
        if log_probs is not None:  # a neighbour of a repeat gets today's, at the update
            self.pending[walk] = log_probs
        return walk

    def tell(self, architecture: Architecture, trial: Trial) -> None:
        for episode in self.episodes.tell(architecture, trial, self.shaper):
            self.add_episode(episode)

    def add_episode(self, episode: Episode) -> None:
        """Into the batch: the walk, its returns, its log-probs when drawn, its length."""
        old_log_probs = self.pending.pop(episode.walk, None)
        self.collect(
            episode, (episode.walk, self.episodes.returns(episode), old_log_probs, episode.length)
        )

    def update(self) -> None:
        missing = [i for i, (_, _, old, _) in enumerate(self.batch) if old is None]
        if missing:  # not drawn by the policy (neighbours, repeats): today's log-probs, batched
            with torch.no_grad():
                scored = self.policy([self.batch[i][0] for i in missing]).step_log_probs
            for i, old in zip(missing, scored.tolist()):
                walk, returns, _, length = self.batch[i]
                self.batch[i] = (walk, returns, old, length)
        whole = [returns[0] for _, returns, _, _ in self.batch]
        self.optimize(self.batch, self.update_baseline(whole, self.baseline_decay))

    def optimize(self, batch: list[Row], baseline: float) -> None:
        """``epochs`` clipped-surrogate steps on (walk, returns, old log-probs, length) rows."""
        walks = [walk for walk, _, _, _ in batch]
        returns = torch.tensor([returns for _, returns, _, _ in batch])
        old_log_probs = torch.tensor([old for _, _, old, _ in batch])
        chosen = self.chosen([length for *_, length in batch])
        advantages = returns - baseline
        if self.normalize_advantages and len(batch) > 1:
            mean, std = advantages[chosen].mean(), advantages[chosen].std()
            advantages = (advantages - mean) / (std + 1e-8)
        advantages = advantages * chosen  # decisions forced after a stop teach nothing
        for _ in range(self.epochs):
            scored, imitation = self.score(walks)
            ratio = torch.exp(scored.step_log_probs - old_log_probs)
            clipped = torch.clamp(ratio, 1 - self.clip, 1 + self.clip)
            surrogate = torch.minimum(ratio * advantages, clipped * advantages).sum(dim=1)
            entropy = scored.entropy.mean()
            self.step(-surrogate.mean() - self.entropy_weight * entropy + imitation)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "pending": list(self.pending.items())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.pending = dict(state["pending"])
