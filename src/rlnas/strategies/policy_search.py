"""What every strategy that trains the LSTM controller shares, so each algorithm file holds only
its own data, loss and update: the policy, its Adam optimizer, the sampling generator, the reward
shaper, an optional moving-average baseline, the episodes (one-shot or progressive), the elite
that every update imitates (self-imitation of the best evaluated so far), and saving and
restoring all of them.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Iterable
from typing import Annotated, Any, ClassVar

import torch
from pydantic import Field

from rlnas.controllers.lstm_policy import LSTMPolicy, PolicyOutput
from rlnas.space import Architecture, SearchSpace
from rlnas.strategies.base import Strategy
from rlnas.strategies.episodes import Episode, Episodes, EpisodeSettings
from rlnas.strategies.neighbours import Decoded, new_neighbour
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
    ``imitation_top`` and ``imitation_weight``: every update also imitates the best walks
    evaluated so far (``score``), so the policy learns from the whole search, not from each
    reward once. Chosen by mean validation regret at a budget of 100 (6 seeds) on syn:nk15,
    syn:chain8 (``benchmarks/synthetic_tables.py``), nbg:cora and nbg:citeseer. Without and
    with imitation: reinforce 1.09 -> 0.27 on syn:nk15, 0.0108 -> 0.0076 on nbg:cora;
    actor-critic 0.42 -> 0.15 on syn:chain8, 0.0132 -> 0.0069 on nbg:cora; ppo 0.59 -> 0.41 on
    syn:nk15 (but 0.00 -> 0.04 on syn:chain8); actor-critic on nbg:citeseer 0.0119 -> 0.0144.
    All three then beat random search on the four (random: 1.04, 0.98, 0.0101, 0.0161). The
    top 4 searched no worse than the top 8 and keep the policy from spreading over near-ties.
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
        imitation_top: Annotated[
            int,
            Field(
                ge=0, le=10_000, description="How many of the best evaluated walks are imitated."
            ),
        ] = 4,
        imitation_weight: Annotated[
            float,
            Field(ge=0.0, le=1000, description="Weight of imitating them in every update's loss."),
        ] = 1.0,
    ) -> None:
        super().__init__(space, seed)
        self.batch_size = batch_size
        self.avoid_repeats = avoid_repeats
        self.proposed: set[str] = set()  # keys of the walks proposed so far
        self._decoded: Decoded = {}  # a cache for the neighbour search
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
        self.optimizer = Adam(self.policy.parameters(), self.learning_rate)
        self.shaper = RewardShaper(reward_shaping)
        self.baseline: float | None = None
        self.imitation_top = imitation_top
        self.imitation_weight = imitation_weight
        self.elite: list[tuple[float, Architecture]] = []
        """The best walks evaluated so far, best first, with their raw value (``remember``)."""

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
            neighbour = new_neighbour(
                self.episodes.space, walk, self.proposed, self.rng, decoded=self._decoded
            )
            if neighbour is not None:
                self.proposed.add(neighbour.key)
                return neighbour, None
        self.proposed.add(walk.key)
        return walk, list(sample.step_log_probs)

    def collect(self, episode: Episode, entry: tuple) -> None:
        """Add a finished episode (``entry``: the algorithm's tuple) to the batch, and to the
        elite if it is among the best; once the batch is full, learn from it and clear it."""
        self.remember(episode)
        self.batch.append(entry)
        if len(self.batch) >= self.batch_size:
            self.update()
            self.batch = []

    @abstractmethod
    def update(self) -> None:
        """The algorithm's loss and optimizer step(s) on the full ``batch``."""

    def remember(self, episode: Episode) -> None:
        """Keep the episode's walk if it is among the ``imitation_top`` best evaluated so far.

        An episode is worth its best step's raw reward. One-shot only (``imitation_loss``).
        """
        values = [raw for raw in episode.raw if raw is not None]
        if not values or not self.imitation_top or episode.cached or self.episodes.progressive:
            return
        value = max(values)
        if len(self.elite) == self.imitation_top and value <= self.elite[-1][0]:
            return
        if any(walk == episode.walk for _, walk in self.elite):
            return
        self.elite.append((value, episode.walk))
        self.elite.sort(key=lambda member: -member[0])  # stable: the earlier wins a tie
        del self.elite[self.imitation_top :]

    def score(self, walks: list[Architecture]) -> tuple[PolicyOutput, torch.Tensor | float]:
        """The walks scored under the current policy (with grad) and the imitation loss.

        Self-imitation of everything evaluated so far: ``imitation_weight`` times the negative
        log-likelihood of the elite walks, weighted by rank (the k-th best of n by n + 1 - k, as
        the cross-entropy method's rank weights); 0 without any. The policy-gradient step
        alone learns from each reward once; this pulls the policy, at every update, towards the
        best architectures of the whole search (the cross-entropy method's refit to the top;
        self-imitation learning, Oh et al., ICML 2018), so its mode sits among them and
        ``avoid_repeats`` turns its draws into a local search around them. One-shot only, like
        ``avoid_repeats``: progressive, a policy pulled onto a few walks regrows known networks
        from the cache and stops finding new ones. Both are scored in one pass, which costs
        little more than the walks alone.
        """
        elite = [walk for _, walk in self.elite] if self.imitation_weight else []
        scored = self.policy(walks + elite)
        if not elite:
            return scored, 0.0
        weights = torch.arange(len(elite), 0, -1, dtype=torch.float32)  # the best weighs most
        log_likelihood = (weights * scored[len(walks) :].log_prob).sum() / weights.sum()
        return scored[: len(walks)], -self.imitation_weight * log_likelihood

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
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "shaper": self.shaper.state_dict(),
            "baseline": self.baseline,
            "episodes": self.episodes.state_dict(),
            "batch": list(self.batch),
            "proposed": sorted(self.proposed),
            "elite": list(self.elite),
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
        self.elite = [(float(value), walk) for value, walk in state["elite"]]


class Adam:
    """Adam (Kingma & Ba, ICLR 2015) on the policy's parameters, as ``torch.optim.Adam`` does.

    Our own because constructing a ``torch.optim`` optimizer imports torch's compiler, about a
    second of CPU: 3 ms per architecture of a 300-architecture search, more than the search's
    whole sampling and learning. A parameter without a gradient (an embedding no later
    decision reads) is left as it is.
    """

    def __init__(
        self,
        parameters: Iterable[torch.nn.Parameter],
        learning_rate: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.parameters = list(parameters)
        self.learning_rate = learning_rate
        self.betas = betas
        self.eps = eps
        self.steps = 0
        self.first = [torch.zeros_like(p) for p in self.parameters]  # moving mean of gradients
        self.second = [torch.zeros_like(p) for p in self.parameters]  # ... of squared gradients

    def zero_grad(self) -> None:
        for parameter in self.parameters:
            parameter.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        moving = [i for i, p in enumerate(self.parameters) if p.grad is not None]
        if not moving:
            return
        self.steps += 1
        beta1, beta2 = self.betas
        parameters = [self.parameters[i] for i in moving]
        grads = [p.grad for p in parameters]
        first = [self.first[i] for i in moving]
        second = [self.second[i] for i in moving]
        torch._foreach_lerp_(first, grads, 1 - beta1)
        torch._foreach_mul_(second, beta2)
        torch._foreach_addcmul_(second, grads, grads, value=1 - beta2)
        denominator = torch._foreach_sqrt(second)
        torch._foreach_div_(denominator, math.sqrt(1 - beta2**self.steps))
        torch._foreach_add_(denominator, self.eps)
        step_size = self.learning_rate / (1 - beta1**self.steps)
        torch._foreach_addcdiv_(parameters, first, denominator, value=-step_size)

    def state_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "first": [t.clone() for t in self.first],
            "second": [t.clone() for t in self.second],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["first"]) != len(self.first) or len(state["second"]) != len(self.second):
            raise ValueError("the saved optimizer is for another policy")
        self.steps = int(state["steps"])
        for mine, saved in zip(self.first + self.second, state["first"] + state["second"]):
            mine.copy_(saved)
