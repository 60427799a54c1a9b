"""A 1-D CNN for sequences such as MNIST-1D: a variable number of convolution layers.

``layers`` comes first; the kernel, width and pooling of a layer beyond it collapse to the single
option 'none', so a strategy decides only what matters. A layer may halve the sequence with a
max-pool while it is two or more steps long. The head averages over time or flattens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import nn

from rlnas.space.core import Architecture, Choice, Choices, SearchSpace

NAME = "conv1d"
INPUT_RANK = 2
"""Inputs are (channels, length)."""
MAX_LAYERS = 4
KERNELS = (3, 5, 7)
WIDTHS = (16, 32, 64)
HEADS = ("average", "flatten")


def space(input_shape: Sequence[int]) -> SearchSpace:
    """The space for sequences of ``input_shape`` = (channels, length)."""
    length = int(input_shape[1])

    def pooling(k: int):
        def allowed(earlier: Choices) -> tuple[str, ...]:
            if k >= earlier["layers"]:
                return ("none",)
            pools = sum(1 for i in range(k) if earlier[f"pool{i}"] == "max")
            return ("none", "max") if length >> pools >= 2 else ("none",)

        return allowed

    decisions = [Choice("layers", tuple(range(1, MAX_LAYERS + 1)))]
    for k in range(MAX_LAYERS):
        decisions += [
            Choice(f"kernel{k}", ("none", *KERNELS), allowed=_if_layer(k, KERNELS)),
            Choice(f"width{k}", ("none", *WIDTHS), allowed=_if_layer(k, WIDTHS)),
            Choice(f"pool{k}", ("none", "max"), allowed=pooling(k)),
        ]
    decisions.append(Choice("head", HEADS))
    return SearchSpace(decisions, name=NAME)


def build(
    architecture: Architecture | Mapping, input_shape: Sequence[int], n_outputs: int
) -> nn.Module:
    """The network of ``architecture`` for inputs of ``input_shape`` with ``n_outputs`` outputs."""
    choices = getattr(architecture, "choices", architecture)
    channels, length = int(input_shape[0]), int(input_shape[1])
    layers: list[nn.Module] = []
    for k in range(int(choices["layers"])):
        kernel, width = int(choices[f"kernel{k}"]), int(choices[f"width{k}"])
        layers += [
            nn.Conv1d(channels, width, kernel, padding=kernel // 2, bias=False),
            nn.BatchNorm1d(width),
            nn.ReLU(),
        ]
        if choices[f"pool{k}"] == "max":
            layers.append(nn.MaxPool1d(2))
            length //= 2
        channels = width
    if choices["head"] == "average":
        layers += [nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(channels, n_outputs)]
    else:
        layers += [nn.Flatten(), nn.Linear(channels * length, n_outputs)]
    return nn.Sequential(*layers)


def _if_layer(k: int, options: tuple):
    """An ``allowed`` function: ``options`` if layer k exists, else the single option 'none'."""

    def allowed(earlier: Choices) -> tuple:
        return options if k < earlier["layers"] else ("none",)

    return allowed
