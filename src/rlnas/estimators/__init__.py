"""How an architecture is scored: look-up tables, training, shared weights, predictors."""

from rlnas.estimators.tabular import TableEvaluator, TabularBenchmark, load_benchmark

__all__ = ["TableEvaluator", "TabularBenchmark", "load_benchmark"]
