"""A Ray Tune searcher driven by an rlnas strategy: ``RLSearcher("ppo")`` in a ``TuneConfig``.

The searched parameters are the top-level ``tune.choice`` entries of the param space, each one
decision of an rlnas ``SearchSpace`` over its categories' positions (so any category, a list or
a dict too, can be chosen); constants pass through unchanged. Every finished trial is told to
the strategy: a trial that trains as far as any has as complete, one stopped short of that by a
scheduler (ASHA) as pruned with its last reported value, an errored one as a failure.
``save``/``restore`` keep the strategy's whole state, so a restored run continues where it was.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from typing import Any

from ray.tune.search import Searcher
from ray.tune.search.sample import Categorical, Domain

from rlnas.errors import UserError
from rlnas.integrations.proposals import Proposals, check_strategy
from rlnas.space import Choice, SearchSpace
from rlnas.trial import Status


class RLSearcher(Searcher):
    """Ray Tune searcher whose ``tune.choice`` parameters an rlnas strategy proposes.

    ``strategy`` is a registered name (``rlnas list``), ``options`` its constructor's keywords,
    ``seed`` its seed. ``space`` is the param space when it is not given to the Tuner; ``metric``
    and ``mode`` as every Tune searcher takes them (or from ``TuneConfig``).
    """

    def __init__(
        self,
        strategy: str,
        seed: int = 0,
        space: Mapping[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(metric=metric, mode=mode)
        check_strategy(strategy, seed, options)
        self.strategy, self.seed, self.options = strategy, seed, options
        self._config: dict[str, Any] = {}
        self._proposals: Proposals | None = None
        self._live: dict[str, dict[str, int]] = {}  # trial id -> the positions it was given
        self._deepest = 0  # the most iterations a finished trial reached
        if space is not None:
            self._start(space)

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any
    ) -> bool:
        """Called by Tune before the first ``suggest`` with the Tuner's param space."""
        if self._proposals is not None:
            return False
        self._metric = metric or self._metric
        self._mode = mode or self._mode
        self._start(config)
        return True

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        """Called when Tune can start a trial: the strategy's next parameters."""
        if self._proposals is None:
            raise UserError("RLSearcher needs a param space of tune.choice entries (param_space=)")
        if self._metric is None or self._mode not in ("min", "max"):
            raise UserError("RLSearcher needs metric= and mode='min' or 'max' (or in TuneConfig)")
        positions = dict(self._proposals.propose().choices)
        self._live[trial_id] = positions  # type: ignore[assignment]
        return {
            name: self._config[name].categories[positions[name]] if name in positions else value
            for name, value in self._config.items()
        }

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        """Called when a trial ends: finished, stopped by a scheduler, or errored."""
        positions = self._live.pop(trial_id, None)
        if positions is None or self._proposals is None:
            return
        value = None if error or not result else result.get(self._metric)
        if value is None:
            self._proposals.tell(positions, None, Status.FAILED)
            return
        # Tune marks a trial that a scheduler stops "done" as well: one that stopped short of
        # the most iterations a trial has reached was stopped early.
        reached = int(result.get("training_iteration", 0)) if result else 0
        self._deepest = max(self._deepest, reached)
        status = Status.COMPLETE if reached >= self._deepest else Status.PRUNED
        sign = 1.0 if self._mode == "max" else -1.0
        self._proposals.tell(positions, sign * float(value), status)

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as handle:
            pickle.dump(self.get_state(), handle)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as handle:
            self.set_state(pickle.load(handle))

    def get_state(self) -> dict[str, Any]:
        proposals = self._proposals
        return {
            "metric": self._metric,
            "mode": self._mode,
            "config": self._config,
            "live": self._live,
            "deepest": self._deepest,
            "strategy": None if proposals is None else proposals.strategy.state_dict(),
            "known": None if proposals is None else proposals.known,
            "told": None if proposals is None else proposals.told,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self._metric, self._mode, self._live = state["metric"], state["mode"], state["live"]
        self._deepest = state["deepest"]
        self._proposals = None
        if state["config"]:
            self._start(state["config"])
        if self._proposals is not None and state["strategy"] is not None:
            self._proposals.strategy.load_state_dict(state["strategy"])
            self._proposals.known, self._proposals.told = state["known"], state["told"]

    def _start(self, config: Mapping[str, Any]) -> None:
        """The rlnas space of the param space's ``tune.choice`` entries, and its strategy."""
        choices = []
        for name, value in config.items():
            if isinstance(value, Categorical):
                choices.append(Choice(name, tuple(range(len(value.categories)))))
            elif isinstance(value, Domain):
                raise UserError(
                    f"RLSearcher searches tune.choice parameters; {name!r} is a "
                    f"{type(value).__name__}: make it a tune.choice of values, or a constant"
                )
        if not choices:
            raise UserError("RLSearcher needs at least one tune.choice in the param space")
        self._config = dict(config)
        space = SearchSpace(choices, name="tune")
        self._proposals = Proposals(self.strategy, space, self.seed, self.options)
