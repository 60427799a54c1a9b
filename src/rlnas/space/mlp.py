"""A multilayer perceptron for tabular data (any input is flattened first).

One activation and one dropout rate serve all hidden layers; they come first, then the width of
each of up to three hidden layers. A width of 'none' means no layer there: it drops out of the
canonical key, so a network and its copies with gaps are evaluated once, and progressive growth
appends one hidden layer per step (layers not added yet are absent).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from math import prod

from torch import nn

from rlnas.space.core import Architecture, Choice, Choices, Growth, Rule, SearchSpace
from rlnas.space.inheritance import (
    GrowthStep,
    Inheritance,
    carry_head,
    copy_modules,
    inherit_by_step,
    refused,
    set_head,
    write_rows,
)

NAME = "mlp"
INPUT_RANK = None
"""Any input shape: it is flattened."""
MAX_DEPTH = 3
WIDTHS = (32, 64, 128, 256)
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}
DROPOUTS = (0.0, 0.1, 0.3)


def space(input_shape: Sequence[int]) -> SearchSpace:
    """The activation, the dropout rate and the width of each hidden layer (or 'none')."""
    decisions = [Choice("activation", tuple(ACTIVATIONS)), Choice("dropout", DROPOUTS)]
    decisions += [Choice(f"width{k}", ("none", *WIDTHS)) for k in range(MAX_DEPTH)]
    hidden = Rule(
        check=lambda c: any(c[f"width{k}"] != "none" for k in range(MAX_DEPTH)),
        message="at least one hidden layer must be present (a width other than 'none')",
        needs=tuple(f"width{k}" for k in range(MAX_DEPTH)),
    )
    return SearchSpace(
        decisions, rules=[hidden], canonical_key=canonical_key, name=NAME, growth=GROWTH
    )


GROWTH = Growth(
    steps=[("activation", "dropout", "width0"), *((f"width{k}",) for k in range(1, MAX_DEPTH))],
    fill={"activation": "relu", "dropout": 0.0, **{f"width{k}": "none" for k in range(MAX_DEPTH)}},
)
"""Progressive growth picks the activation and dropout with the first layer, then appends one
hidden layer per step."""


def canonical_key(choices: Choices) -> str:
    """The activation, the dropout rate and the widths of the layers that are present."""
    widths = [choices[f"width{k}"] for k in range(MAX_DEPTH) if choices[f"width{k}"] != "none"]
    return json.dumps([choices["activation"], choices["dropout"], widths], separators=(",", ":"))


def build(
    architecture: Architecture | Mapping, input_shape: Sequence[int], n_outputs: int
) -> nn.Module:
    """The network of ``architecture`` for inputs of ``input_shape`` with ``n_outputs`` outputs."""
    choices = getattr(architecture, "choices", architecture)
    features = prod(int(n) for n in input_shape)
    layers: list[nn.Module] = [nn.Flatten()]
    for k in range(MAX_DEPTH):
        if choices[f"width{k}"] == "none":
            continue
        width = int(choices[f"width{k}"])
        layers += [nn.Linear(features, width), ACTIVATIONS[str(choices["activation"])]()]
        if choices["dropout"]:
            layers.append(nn.Dropout(float(choices["dropout"])))
        features = width
    layers.append(nn.Linear(features, n_outputs))
    return nn.Sequential(*layers)


def _grow(grown: GrowthStep) -> Inheritance:
    """The child's network with the parent's weights and function (``rlnas.space.inheritance``).

    A new ReLU layer at least as wide as its input is an identity layer (its input follows a
    ReLU, so it is non-negative); a ReLU or GELU layer of ``2 * n_outputs`` units or more
    carries the head's map and its negation. No BatchNorm: exact in train mode too when there
    is no dropout. A tanh layer cannot pass a linear map on (a sum of tanh units is bounded, a
    linear map is not): refused. ``calibration`` is unused (no batch norm).
    """
    parent, child, step, model = grown.parent, grown.child, grown.number, grown.model
    parent_model, n_outputs = grown.parent_model, grown.n_outputs
    activation = str(child["activation"])
    if activation == "tanh":
        return refused("a tanh layer cannot pass a linear map on (tanh units are bounded)")
    present = sum(1 for k in range(step) if parent[f"width{k}"] != "none")
    layers = 1 + present * (3 if child["dropout"] else 2)
    copy_modules(parent_model, model, layers)
    width = int(child[f"width{step}"])
    carry = carry_head(
        parent_model[-1], width, identity_passes=activation == "relu", difference_passes=True
    )
    if carry is None:
        inputs = parent_model[-1].in_features
        return refused(
            f"{width} {activation} units can neither pass {inputs} features on nor carry "
            f"{n_outputs} outputs and their negation"
        )
    write_rows(model[layers], carry.rows)
    set_head(model, carry)
    return Inheritance(model, f"{activation} layer: {carry.how}", not child["dropout"])


inherit = inherit_by_step(build, GROWTH, _grow)
