"""An evaluator of one's own: any function from an Architecture to a mapping of metrics.

``rlnas search --evaluator rlnas_examples.scoring:evaluate --space rlnas_examples.scoring:SPACE
--metric score`` searches ``SPACE`` with it. Defined at the top level of a module, it pickles,
so ``--workers 2`` runs it in two processes.
"""

from __future__ import annotations

from rlnas import Architecture, Choice, SearchSpace

SPACE = SearchSpace(
    [Choice(f"layer{k}", ["conv3", "conv5", "skip"]) for k in range(4)], name="toy-layers"
)


def evaluate(architecture: Architecture) -> dict[str, float]:
    """The share of conv5 layers (the best architecture is all conv5), and a cost."""
    choices = list(architecture.choices.values())
    return {
        "score": sum(option == "conv5" for option in choices) / len(choices),
        "cost": float(sum(option != "skip" for option in choices)),
    }
