"""The one reward model of the model-based strategies and the screening: ``RewardModel``.

It owns what every user of a learned reward needs and used to keep for itself: the evaluated
architectures (as option indices), the regressor, its uncertainty, when it is refit and whether
it is good enough to plan with. Two regressors serve (``kind``):

- ``pairwise``: ``PairwiseModel``, Bayesian linear regression on per-decision and pairwise
  option indicators. A posterior sample is a set of tables (exact Thompson samples, and dynamic
  programming over the decisions); a refit costs one Cholesky factor of the points. Cheap.
- ``pool``: ``SelectedRewardModel``, the best of a pool of regressors (kernel ensemble, forest,
  boosting, GP) by cross-validated Kendall tau, on ``ArchitectureFeatures`` (one-hot plus what
  the space declares). Its Thompson sample is independent per architecture, ``mean + std * z``.
  Stronger on spaces with declared features; tens of times dearer.

Refits follow one schedule: once the evaluations have grown by ``refit_growth`` (a fraction,
at least one new point), so a long search refits ever more rarely; 0 refits after every one.
The quality gate is one name, ``min_quality``: the regressor's cross-validated (``pool``) or
leave-one-out (``pairwise``) Kendall tau on the evaluations must reach it before a strategy
plans with the model (``trusted``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from rlnas.controllers.features import ArchitectureFeatures
from rlnas.controllers.model_selection import SelectedRewardModel
from rlnas.controllers.pairwise_model import Pairs, PairwiseModel, Tables
from rlnas.controllers.regressors import CANDIDATES
from rlnas.space import SearchSpace

ModelKind = Literal["pairwise", "pool"]
Acquisition = Literal["thompson", "ucb"]
Scorer = Callable[[np.ndarray], np.ndarray]
"""Values of rows of option indices, shape (rows, decisions) -> (rows,)."""


class RewardModel:
    """The evaluated architectures, a regressor fit on them on a schedule, and its quality gate.

    ``kind``: ``pairwise`` or ``pool`` (see the module). ``pairs``: the pairwise model's pair
    terms, ``adjacent`` decisions or ``all`` pairs. ``candidates`` and ``space_features``: the
    pool's regressors and whether the space's declared features join the one-hot columns.
    ``max_points``: the most recent evaluations a fit sees. ``refit_growth`` and
    ``min_quality``: the schedule and the gate (see the module).
    """

    def __init__(
        self,
        space: SearchSpace,
        kind: ModelKind = "pairwise",
        pairs: Pairs = "all",
        candidates: Sequence[str] = CANDIDATES,
        space_features: bool = True,
        max_points: int = 200,
        refit_growth: float = 0.0,
        min_quality: float = 0.3,
    ) -> None:
        self.space = space
        self.kind = kind
        self.refit_growth = refit_growth
        self.min_quality = min_quality
        self.rows: list[tuple[int, ...]] = []  # option indices of each evaluation, in order
        self.fitted_on = 0  # how many of them the regressor was last fit on
        if kind == "pairwise":
            sizes = [len(choice.options) for choice in space.choices]
            self.regressor: PairwiseModel | SelectedRewardModel = PairwiseModel(
                sizes, pairs, max_points
            )
        else:
            self.regressor = SelectedRewardModel(
                candidates, top=min(3, len(candidates)), max_points=max_points
            )
            self.features = ArchitectureFeatures(space, None if space_features else ())

    # --- data and schedule -----------------------------------------------------------------------
    def observe(self, indices: Sequence[int]) -> None:
        """Add one evaluated architecture (its option indices); its target comes at the refit."""
        self.rows.append(tuple(int(i) for i in indices))

    @property
    def due(self) -> bool:
        """Whether enough evaluations are new since the last fit for the schedule to refit."""
        new = len(self.rows) - self.fitted_on
        return bool(self.rows) and new >= max(1, self.refit_growth * self.fitted_on)

    def refit_if_due(
        self, targets: Callable[[], Sequence[float]], rng: np.random.Generator
    ) -> bool:
        """Refit on every evaluation if the schedule says so; ``targets()`` gives their values
        (called only then, in the order observed). Whether it was refit."""
        if not self.due:
            return False
        values = np.asarray(targets(), dtype=float)
        if isinstance(self.regressor, PairwiseModel):
            self.regressor.fit(np.array(self.rows), values)
        else:
            self.regressor.fit(self.features.from_indices(self.rows), values, rng)
        self.fitted_on = len(self.rows)
        return True

    @property
    def fitted(self) -> bool:
        return self.regressor.fitted

    @property
    def quality(self) -> float | None:
        """The regressor's out-of-sample Kendall tau on the evaluations; None before it is known."""
        return self.regressor.quality

    @property
    def trusted(self) -> bool:
        """Whether the model's quality reaches ``min_quality``: planning with it helps."""
        return self.quality is not None and self.quality >= self.min_quality

    # --- predicting ------------------------------------------------------------------------------
    def predict(self, indices: np.ndarray | Sequence[Sequence[int]]) -> tuple[np.ndarray, ...]:
        """Mean and standard deviation of the reward of each row of option indices."""
        rows = np.asarray(indices, dtype=int).reshape(-1, len(self.space))
        if isinstance(self.regressor, PairwiseModel):
            return self.regressor.predict(rows)
        return self.regressor.predict(self.features.from_indices(rows.tolist()))

    def tables(self, rng: np.random.Generator) -> Tables:
        """A posterior sample as per-decision and pair tables (the ``pairwise`` model only)."""
        if not isinstance(self.regressor, PairwiseModel):
            raise TypeError("only the pairwise reward model has tables")
        return self.regressor.sample(rng)

    def scorer(self, acquisition: Acquisition, kappa: float, rng: np.random.Generator) -> Scorer:
        """How candidates are valued: a Thompson sample of the model, or mean + kappa * std.

        One call draws one sample: the pairwise model's is a whole function (every candidate
        valued by the same draw); the pool's is drawn independently per candidate.
        """
        if acquisition == "thompson" and isinstance(self.regressor, PairwiseModel):
            return self.regressor.sample(rng).score
        if acquisition == "thompson":

            def independent(rows: np.ndarray) -> np.ndarray:
                mean, std = self.predict(rows)
                return mean + std * rng.standard_normal(len(mean))

            return independent

        def optimistic(rows: np.ndarray) -> np.ndarray:
            mean, std = self.predict(rows)
            return mean + kappa * std

        return optimistic

    # --- persistence -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "rows": [list(row) for row in self.rows],
            "fitted_on": self.fitted_on,
            "regressor": self.regressor.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rows = [tuple(int(i) for i in row) for row in state["rows"]]
        self.fitted_on = int(state["fitted_on"])
        self.regressor.load_state_dict(state["regressor"])
