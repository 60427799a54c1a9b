"""How an architecture is scored: look-up tables, training, shared weights, predictors.

The torch-based estimators load on first use, so that a table search never imports torch.
"""

from importlib import import_module
from typing import Any

from rlnas.estimators.tabular import TableEvaluator, TabularBenchmark, load_benchmark

_LAZY = {
    "TrainingEvaluator": "rlnas.estimators.training",
    "TrainingRecipe": "rlnas.estimators.recipe",
    "WeightSharingEvaluator": "rlnas.estimators.weight_sharing",
    "SupernetEvaluator": "rlnas.estimators.supernet",
    "ESTIMATORS": "rlnas.estimators.registry",
    "make_estimator": "rlnas.estimators.registry",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["TableEvaluator", "TabularBenchmark", "load_benchmark", *_LAZY]
