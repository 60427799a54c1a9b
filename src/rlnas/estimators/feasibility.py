"""Whether a hard cost limit leaves anything to search: checked on sampled architectures first.

A limit on params or FLOPs that no network of the space meets would reject every candidate, so
the search would train nothing (rejected trials use no budget) and end with no result. Building
a few dozen networks takes a second; it cannot prove that no architecture meets the limit, so a
limit that only rare architectures meet may be refused too (the message shows the smallest).
"""

from __future__ import annotations

import numpy as np

from rlnas.errors import UserError
from rlnas.estimators.measuring import count_flops
from rlnas.rewards import BEFORE_TRAINING, Constraint
from rlnas.space import SearchSpace
from rlnas.space.models import SpaceLike, build_model
from rlnas.tasks import Task

SAMPLES = 64
"""Architectures built to look for one that meets the hard limits."""


def check_feasible(
    task: Task,
    space_name: SpaceLike,
    space: SearchSpace,
    constraints: tuple[Constraint, ...] | list[Constraint],
    seed: int = 0,
    samples: int = SAMPLES,
) -> None:
    """A UserError when none of ``samples`` architectures of ``space`` meets every hard limit
    on params and FLOPs among ``constraints``."""
    hard = [c for c in constraints if not c.soft and c.cost in BEFORE_TRAINING]
    if not hard:
        return
    rng = np.random.default_rng(seed)
    smallest: dict[str, float] = {}
    for _ in range(samples):
        architecture = space.sample(rng)
        try:
            model = build_model(space_name, architecture, task.input_shape, task.n_outputs)
            costs = {"params": float(sum(p.numel() for p in model.parameters()))}
            if any(c.cost == "flops" for c in hard):
                costs["flops"] = float(count_flops(model, task.X_train[:1]))
        except (KeyError, ValueError, TypeError, RuntimeError):
            continue  # a network that cannot be built fails as a trial; not the point here
        if all(costs[c.cost] <= c.target for c in hard):
            return
        for cost, value in costs.items():
            smallest[cost] = min(value, smallest.get(cost, value))
    found = ", ".join(f"{cost} {value:g}" for cost, value in smallest.items()) or "none built"
    raise UserError(
        f"no architecture of {samples} sampled meets {', '.join(map(str, hard))} (the smallest: "
        f"{found}); raise the limit, make it :soft, or search a smaller space"
    )
