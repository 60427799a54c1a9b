"""A multilayer perceptron for tabular data (any input is flattened first).

``depth`` comes first; the width of a layer beyond it collapses to the single option 'none'.
One activation and one dropout rate serve all hidden layers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import prod

from torch import nn

from rlnas.space.core import Architecture, Choice, Choices, SearchSpace

NAME = "mlp"
INPUT_RANK = None
"""Any input shape: it is flattened."""
MAX_DEPTH = 3
WIDTHS = (32, 64, 128, 256)
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}
DROPOUTS = (0.0, 0.1, 0.3)


def space(input_shape: Sequence[int]) -> SearchSpace:
    """Depth, the width of each hidden layer, the activation and the dropout rate."""
    decisions = [Choice("depth", tuple(range(1, MAX_DEPTH + 1)))]
    decisions += [
        Choice(f"width{k}", ("none", *WIDTHS), allowed=_if_layer(k)) for k in range(MAX_DEPTH)
    ]
    decisions += [Choice("activation", tuple(ACTIVATIONS)), Choice("dropout", DROPOUTS)]
    return SearchSpace(decisions, name=NAME)


def build(
    architecture: Architecture | Mapping, input_shape: Sequence[int], n_outputs: int
) -> nn.Module:
    """The network of ``architecture`` for inputs of ``input_shape`` with ``n_outputs`` outputs."""
    choices = getattr(architecture, "choices", architecture)
    features = prod(int(n) for n in input_shape)
    layers: list[nn.Module] = [nn.Flatten()]
    for k in range(int(choices["depth"])):
        width = int(choices[f"width{k}"])
        layers += [nn.Linear(features, width), ACTIVATIONS[str(choices["activation"])]()]
        if choices["dropout"]:
            layers.append(nn.Dropout(float(choices["dropout"])))
        features = width
    layers.append(nn.Linear(features, n_outputs))
    return nn.Sequential(*layers)


def _if_layer(k: int):
    def allowed(earlier: Choices) -> tuple:
        return WIDTHS if k < earlier["depth"] else ("none",)

    return allowed
