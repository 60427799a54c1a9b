"""A 1-D CNN for sequences such as MNIST-1D: up to four convolution layers and a head.

The head (average over time, or flatten) comes first, then each layer's kernel, width and pooling.
A layer whose kernel is 'none' is absent: its width and pooling collapse to 'none' and it drops
out of the canonical key, so a network and its copies with gaps are evaluated once, and
progressive growth appends one layer per step (layers not added yet are absent). A layer may
halve the sequence with a max-pool while it is two or more steps long.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from torch import nn

from rlnas.space.core import Architecture, Choice, Choices, Growth, Rule, SearchSpace
from rlnas.space.inheritance import (
    GrowthStep,
    Inheritance,
    calibrate,
    carry_head,
    copy_modules,
    identity_batch_norm,
    inherit_by_step,
    refused,
    set_head,
    write_rows,
)

NAME = "conv1d"
INPUT_RANK = 2
"""Inputs are (channels, length)."""
MAX_LAYERS = 4
KERNELS = (3, 5, 7)
WIDTHS = (16, 32, 64)
HEADS = ("average", "flatten")
_LAYER = ("kernel", "width", "pool")
"""The decisions of one layer, in order."""


def space(input_shape: Sequence[int]) -> SearchSpace:
    """The space for sequences of ``input_shape`` = (channels, length)."""
    length = int(input_shape[1])

    def pooling(k: int):
        def allowed(earlier: Choices) -> tuple[str, ...]:
            if earlier[f"kernel{k}"] == "none":
                return ("none",)
            pools = sum(1 for i in range(k) if earlier[f"pool{i}"] == "max")
            return ("none", "max") if length >> pools >= 2 else ("none",)

        return allowed

    decisions = [Choice("head", HEADS)]
    for k in range(MAX_LAYERS):
        decisions += [
            Choice(f"kernel{k}", ("none", *KERNELS)),
            Choice(f"width{k}", ("none", *WIDTHS), allowed=_if_layer(k, WIDTHS)),
            Choice(f"pool{k}", ("none", "max"), allowed=pooling(k)),
        ]
    convolves = Rule(
        check=lambda c: any(c[f"kernel{k}"] != "none" for k in range(MAX_LAYERS)),
        message="at least one layer must be present (a kernel other than 'none')",
        needs=tuple(f"kernel{k}" for k in range(MAX_LAYERS)),
    )
    return SearchSpace(
        decisions, rules=[convolves], canonical_key=canonical_key, name=NAME, growth=GROWTH
    )


GROWTH = Growth(
    steps=[
        ("head", "kernel0", "width0", "pool0"),
        *((f"kernel{k}", f"width{k}", f"pool{k}") for k in range(1, MAX_LAYERS)),
    ],
    fill={
        "head": HEADS[0],
        **{f"{decision}{k}": "none" for k in range(MAX_LAYERS) for decision in _LAYER},
    },
)
"""Progressive growth picks the head with the first layer, then appends one layer per step."""


def canonical_key(choices: Choices) -> str:
    """The head and the layers that are present, in order: absent layers change nothing."""
    layers = [
        [choices[f"kernel{k}"], choices[f"width{k}"], choices[f"pool{k}"]]
        for k in range(MAX_LAYERS)
        if choices[f"kernel{k}"] != "none"
    ]
    return json.dumps([choices["head"], layers], separators=(",", ":"))


def build(
    architecture: Architecture | Mapping, input_shape: Sequence[int], n_outputs: int
) -> nn.Module:
    """The network of ``architecture`` for inputs of ``input_shape`` with ``n_outputs`` outputs."""
    choices = getattr(architecture, "choices", architecture)
    channels, length = int(input_shape[0]), int(input_shape[1])
    layers: list[nn.Module] = []
    for k in range(MAX_LAYERS):
        if choices[f"kernel{k}"] == "none":
            continue
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
    """An ``allowed`` function: ``options`` if layer k is present, else the single option 'none'."""

    def allowed(earlier: Choices) -> tuple:
        return options if earlier[f"kernel{k}"] != "none" else ("none",)

    return allowed


def _grow(grown: GrowthStep) -> Inheritance:
    """The child's network with the parent's weights and function (``rlnas.space.inheritance``).

    Every layer ends in ReLU, so a new layer at least as wide as its input is an identity layer;
    a narrower one under the average head carries the head's map and its negation. Both are
    exact in eval mode. A new layer that pools changes what the head sees: refused.
    """
    parent, child, step, model = grown.parent, grown.child, grown.number, grown.model
    parent_model, n_outputs = grown.parent_model, grown.n_outputs
    if child[f"pool{step}"] == "max":
        return refused("a new layer that max-pools changes what the head reads")
    present = [k for k in range(step) if parent[f"kernel{k}"] != "none"]
    channels = int(parent[f"width{present[-1]}"])
    layers = sum(4 if parent[f"pool{k}"] == "max" else 3 for k in present)
    copy_modules(parent_model, model, layers)
    head = parent_model[-1]
    width = int(child[f"width{step}"])
    carry = carry_head(
        head,
        width,
        identity_passes=True,
        difference_passes=True,
        positions=head.in_features // channels,
    )
    if carry is None:
        return refused(
            f"{width} channels can neither pass {channels} channels on nor carry "
            f"{n_outputs} outputs and their negation (under a flatten head, only the former)"
        )
    convolution, norm = model[layers], model[layers + 1]
    write_rows(convolution, carry.rows)
    identity_batch_norm(norm, len(carry.rows))
    set_head(model, carry)
    calibrate(model, {norm: len(carry.rows)}, grown.calibration)
    return Inheritance(model, f"convolution: {carry.how}")


inherit = inherit_by_step(build, GROWTH, _grow)
