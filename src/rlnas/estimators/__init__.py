"""How an architecture is scored: look-up tables, training, weight sharing, supernets, predictors."""

from rlnas.estimators.tabular import TableEvaluator, TabularBenchmark, load_benchmark

__all__ = ["TableEvaluator", "TabularBenchmark", "load_benchmark"]
