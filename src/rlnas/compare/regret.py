"""Regret: how far a search's incumbent is from the best of a benchmark's whole table.

After each distinct query a run's *incumbent* is the architecture with the best validation value
so far (the earlier one on a tie), and it is scored against the table's optimum:

- validation regret: the table's best validation minus the incumbent's validation;
- test regret: the table's best test value minus the incumbent's test value;
- queries to the top 1 %: the first query whose validation reaches the table's top 1 %.

A strategy never sees the budget, so the first ``b`` queries of a run with a larger budget are
exactly the run with budget ``b``: ``Run.at_budget`` reads smaller budgets off one run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from rlnas.errors import UserError
from rlnas.estimators import TabularBenchmark

TOP_FRACTION = 0.01
"""The share of the table, best by validation, that ``queries_to_top1pct`` waits for."""


@dataclass(frozen=True)
class Run:
    """One strategy's search with one seed, scored after each of its distinct queries."""

    strategy: str
    seed: int
    validation_regret: tuple[float, ...]
    """The incumbent's validation regret after query 1, 2, ..., budget."""
    test_regret: tuple[float, ...]
    """The incumbent's test regret after query 1, 2, ..., budget."""
    queries_to_top: int | None
    """The first query (1-based) in the table's top 1 % by validation; None if none was."""
    queries: int | None = None
    """Distinct architectures queried: fewer than the budget if the search stopped early."""
    incumbent: Mapping[str, object] | None = field(default=None, compare=False)
    """The choices of the final incumbent, when the run was scored with its architectures."""
    architectures: tuple[Mapping[str, object], ...] = field(default=(), compare=False)
    """The choices of every distinct query in order, when the run was scored with them."""

    @property
    def budget(self) -> int:
        return len(self.validation_regret)

    def at_budget(self, budget: int) -> Run:
        """This run as if it had stopped after ``budget`` queries."""
        if not 1 <= budget <= self.budget:
            raise UserError(f"budget {budget} is outside 1..{self.budget}, the queries of the run")
        reached = self.queries_to_top
        if reached is not None and reached > budget:
            reached = None
        return replace(
            self,
            validation_regret=self.validation_regret[:budget],
            test_regret=self.test_regret[:budget],
            queries_to_top=reached,
            queries=None if self.queries is None else min(self.queries, budget),
            incumbent=self.incumbent if budget == self.budget else None,
            architectures=self.architectures[:budget],
        )


def score_run(
    benchmark: TabularBenchmark,
    strategy: str,
    seed: int,
    queried: Sequence[Mapping[str, float] | None],
    budget: int,
    architectures: Sequence[Mapping[str, object]] | None = None,
) -> Run:
    """Score a run from the metrics of its distinct queries in order (None for a failed one).

    Before the first successful query the incumbent counts as the table's worst. A run that
    stopped before ``budget`` queries keeps its last incumbent for the rest. With the queries'
    ``architectures`` (their choices), the run also names its incumbent.
    """
    values = list(benchmark.table.values())
    best_validation = benchmark.best(benchmark.metric)
    best_test = benchmark.best(benchmark.test_metric)
    threshold = benchmark.top_fraction_threshold(TOP_FRACTION)
    incumbent_validation = min(m[benchmark.metric] for m in values)
    incumbent_test = min(m[benchmark.test_metric] for m in values)
    validation_regret: list[float] = []
    test_regret: list[float] = []
    queries_to_top = None
    incumbent = None
    for number, metrics in enumerate(queried[:budget], start=1):
        if metrics is not None and metrics[benchmark.metric] > incumbent_validation:
            incumbent_validation = metrics[benchmark.metric]
            incumbent_test = metrics[benchmark.test_metric]
            incumbent = None if architectures is None else dict(architectures[number - 1])
        if queries_to_top is None and incumbent_validation >= threshold:
            queries_to_top = number
        validation_regret.append(best_validation - incumbent_validation)
        test_regret.append(best_test - incumbent_test)
    missing = budget - len(validation_regret)
    validation_regret += [best_validation - incumbent_validation] * missing
    test_regret += [best_test - incumbent_test] * missing
    return Run(
        strategy,
        seed,
        tuple(validation_regret),
        tuple(test_regret),
        queries_to_top,
        queries=min(len(queried), budget),
        incumbent=incumbent,
        architectures=tuple(dict(a) for a in architectures[:budget]) if architectures else (),
    )
