"""An Optuna sampler driven by an rlnas strategy: ``RLSampler("mcts")`` in ``create_study``.

Define-by-run: the categorical parameters that every finished trial holds are the decisions of
an rlnas ``SearchSpace`` (in the order the earliest such trial suggested them); the strategy
proposes them all at the start of each trial (``sample_relative``). Anything else (floats, ints,
parameters that come and go, choices that are not JSON scalars) goes to an independent sampler,
Optuna's ``RandomSampler`` unless given, with one warning.

The strategy's state is a function of the study's finished trials: before each proposal the
sampler tells the strategy every finished trial it has not told yet, in trial-number order, a
trial it did not propose itself after asking once (as it would have been asked). So a study
reloaded from storage in a new process (or after the space grew) rebuilds the strategy from its
trials and, run serially, proposes what the uninterrupted study would have. With ``n_jobs`` > 1
trials finish out of order: the strategy learns from each as it finishes, no longer replayably.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from rlnas.errors import UserError
from rlnas.integrations.proposals import Proposals, check_strategy
from rlnas.space import Choice, SearchSpace
from rlnas.trial import Status

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


class RLSampler(BaseSampler):
    """Optuna sampler whose categorical parameters an rlnas strategy proposes.

    ``strategy`` is a registered name (``rlnas list``), ``options`` its constructor's keywords;
    ``seed`` seeds the strategy and the default independent sampler, so the same seed gives the
    same study. A pruned trial is told with its last intermediate value, a failed one as a
    failure (the strategy decides what that is worth).
    """

    def __init__(
        self,
        strategy: str,
        seed: int = 0,
        independent_sampler: BaseSampler | None = None,
        **options: Any,
    ) -> None:
        check_strategy(strategy, seed, options)
        self.strategy = strategy
        self.seed = seed
        self.options = options
        self.independent_sampler = independent_sampler or RandomSampler(seed=seed)
        self._lock = threading.Lock()
        self._warned = False
        self._proposals: Proposals | None = None
        self._proposed: set[int] = set()  # trial numbers whose parameters this strategy proposed
        self._told: set[int] = set()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]  # a lock does not pickle; each copy gets its own
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def reseed_rng(self) -> None:
        self.independent_sampler.reseed_rng()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """Called at the start of each trial: the categorical parameters every finished trial
        (complete or pruned) holds, in the order the earliest of them suggested them."""
        if len(study.directions) > 1:
            raise UserError("RLSampler searches one objective; create the study with direction=")
        common = IntersectionSearchSpace(include_pruned=True).calculate(study)
        if not common:
            return {}
        first = next(
            t
            for t in study.get_trials(deepcopy=False, states=_FINISHED[:2])
            if set(common) <= set(t.distributions)
        )
        return {
            name: distribution
            for name, distribution in first.distributions.items()
            if name in common and _modelled(distribution)
        }

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Called at the start of each trial: the strategy's proposal for every decision."""
        if not search_space:
            return {}
        with self._lock:
            proposals = self._catch_up(study, search_space)
            architecture = proposals.propose()
            self._proposed.add(trial.number)
            return dict(architecture.choices)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Called for a parameter outside the relative space: the independent sampler draws it."""
        # a categorical parameter of a trial that started before any trial finished is drawn
        # here too, but it will be modelled: no warning for it
        unmodelled = not _modelled(param_distribution) or trial.number in self._proposed
        if unmodelled and not self._warned:
            self._warned = True
            warnings.warn(
                f"RLSampler's strategy proposes only categorical parameters that every trial "
                f"suggests; {param_name!r} and any others are drawn by "
                f"{type(self.independent_sampler).__name__}",
                stacklevel=2,
            )
        return self.independent_sampler.sample_independent(
            study, trial, param_name, param_distribution
        )

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self.independent_sampler.before_trial(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self.independent_sampler.after_trial(study, trial, state, values)

    def _catch_up(self, study: Study, space: Mapping[str, BaseDistribution]) -> Proposals:
        """The strategy over ``space``, told every finished trial (rebuilt if the space changed)."""
        proposals = self._proposals
        names = list(space)
        if proposals is None or list(proposals.space.names) != names:
            choices = [Choice(n, space[n].choices) for n in names]  # type: ignore[attr-defined]
            searched = SearchSpace(choices, name="optuna")
            proposals = Proposals(self.strategy, searched, self.seed, self.options)
            self._proposals, self._told, self._proposed = proposals, set(), set()
        sign = -1.0 if study.direction == StudyDirection.MINIMIZE else 1.0
        for finished in study.get_trials(deepcopy=False, states=_FINISHED):
            if finished.number in self._told:
                continue
            self._told.add(finished.number)
            if not all(name in finished.params for name in names):
                continue
            if finished.number not in self._proposed:
                proposals.propose()  # as the strategy was asked for it in the first place
            reward, status = _reward(finished)
            choices = {name: finished.params[name] for name in names}
            proposals.tell(choices, None if reward is None else sign * reward, status)
        return proposals


def _modelled(distribution: BaseDistribution) -> bool:
    """Whether a distribution is a categorical of JSON scalars, which a Choice can hold."""
    return isinstance(distribution, CategoricalDistribution) and all(
        isinstance(option, str | int | float | bool) for option in distribution.choices
    )


def _reward(trial: FrozenTrial) -> tuple[float | None, Status]:
    """A finished trial's value and status; a pruned trial's value is its last report."""
    if trial.state == TrialState.COMPLETE and trial.value is not None:
        return float(trial.value), Status.COMPLETE
    if trial.state == TrialState.PRUNED and trial.intermediate_values:
        return float(trial.intermediate_values[max(trial.intermediate_values)]), Status.PRUNED
    return None, Status.FAILED


__all__ = ["RLSampler"]
