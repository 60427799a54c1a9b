"""The interface every search strategy implements: ask for architectures, tell their results.

Like Optuna's samplers, a strategy never calls the evaluator: ``rlnas.search`` (or the user) owns
the loop. ``ask`` may be called several times before the matching ``tell`` calls, and results may
come back in any order, so a strategy keys whatever it remembers of a proposal by architecture.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from rlnas.space import Architecture, SearchSpace
from rlnas.trial import Trial


class Strategy(ABC):
    """Base class of search strategies; subclasses hold one algorithm each, top to bottom."""

    name: ClassVar[str]
    progressive: ClassVar[bool] = False
    """Whether the strategy learns from episodes and so also searches progressively: it then
    takes ``episodes=EpisodeSettings(...)`` (``rlnas.strategies.episodes``)."""

    def __init__(self, space: SearchSpace, seed: int = 0) -> None:
        self.space = space
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    @abstractmethod
    def ask(self, n: int = 1) -> list[Architecture]:
        """Propose ``n`` architectures to evaluate next (repeats are allowed and cost nothing)."""

    @abstractmethod
    def tell(self, architecture: Architecture, trial: Trial) -> None:
        """Learn from the result of evaluating ``architecture``."""

    def diagnostics(self) -> dict[str, Any]:
        """What the controller believes now, for reports; JSON-serializable, stored per trial.

        Every key is optional; reports draw the ones present:
        ``entropy`` {decision: nats}, ``probabilities`` {decision: [p per option]} (along the
        greedy path), ``q_values`` {decision: [q per option]} (greedy path), ``baseline`` and
        ``value`` (floats), ``epsilon`` (float), ``model_error`` (|predicted - true| reward of the
        latest evaluation) and ``predicted`` (float); model-based strategies add
        ``model_quality`` (the reward model's cross-validated Kendall tau on the evaluations so
        far), ``model_rounds`` (DyNA-PPO: model-rewarded rounds after the latest real batch, 0
        when the model was not good enough) and ``planned`` (Dyna-Q: simulated episodes backed
        up so far). Strategies that learn nothing return {}.
        """
        return {}

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where this strategy stands (RNG included)."""
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned; the strategy then continues identically."""
        self.rng.bit_generator.state = state["rng"]
