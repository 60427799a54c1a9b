"""A macro chain CNN for images: a few layers in a row, each with its operation, width and skip.

Each layer picks an operation (3x3 or 5x5 convolution, depthwise-separable 3x3 convolution,
2x2 max-pool, or identity), an output width when it convolves, and whether a residual connection
goes around it. Global average pooling and a linear layer follow. Identity layers drop out of the
canonical key, so a network and its copies padded with identity layers are evaluated once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from torch import nn

from rlnas.space.blocks import Residual
from rlnas.space.core import Architecture, Choice, Choices, Growth, Rule, SearchSpace
from rlnas.space.inheritance import (
    GrowthStep,
    Inheritance,
    calibrate,
    carry_head,
    copy_modules,
    identity_batch_norm,
    identity_kernel,
    inherit_by_step,
    refused,
    set_head,
    write_rows,
    zero_batch_norm,
)

NAME = "chain-cnn"
INPUT_RANK = 3
"""Inputs are (channels, height, width)."""
LAYERS = 4
OPERATIONS = ("conv3x3", "conv5x5", "sepconv3x3", "maxpool", "identity")
CONVOLUTIONS = ("conv3x3", "conv5x5", "sepconv3x3")
WIDTHS = (16, 32, 64)


def space(input_shape: Sequence[int]) -> SearchSpace:
    """The space for images of ``input_shape``: max-pool is open while the image is 2x2 or more."""
    smallest_side = min(input_shape[1:])

    def operations(earlier: Choices) -> tuple[str, ...]:
        pools = sum(1 for k in range(LAYERS) if earlier.get(f"op{k}") == "maxpool")
        if smallest_side >> pools >= 2:
            return OPERATIONS
        return tuple(op for op in OPERATIONS if op != "maxpool")

    decisions = []
    for k in range(LAYERS):
        decisions += [
            Choice(f"op{k}", OPERATIONS, allowed=operations),
            Choice(f"width{k}", ("none", *WIDTHS), allowed=_if_convolution(k, WIDTHS, ("none",))),
            Choice(f"skip{k}", (False, True), allowed=_if_convolution(k, (False, True), (False,))),
        ]
    convolves = Rule(
        check=lambda c: any(c[f"op{k}"] in CONVOLUTIONS for k in range(LAYERS)),
        message="at least one layer must be a convolution",
        needs=tuple(f"op{k}" for k in range(LAYERS)),
    )
    return SearchSpace(
        decisions, rules=[convolves], canonical_key=canonical_key, name=NAME, growth=GROWTH
    )


GROWTH = Growth(
    steps=[(f"op{k}", f"width{k}", f"skip{k}") for k in range(LAYERS)],
    fill={
        name: value
        for k in range(LAYERS)
        for name, value in {f"op{k}": "identity", f"width{k}": "none", f"skip{k}": False}.items()
    },
)
"""Progressive growth appends one layer per step; layers not added yet are identities."""


def canonical_key(choices: Choices) -> str:
    """The layers that compute something, in order: identity layers change nothing."""
    layers = [
        [choices[f"op{k}"], choices[f"width{k}"], choices[f"skip{k}"]]
        for k in range(LAYERS)
        if choices[f"op{k}"] != "identity"
    ]
    return json.dumps(layers, separators=(",", ":"))


def build(
    architecture: Architecture | Mapping, input_shape: Sequence[int], n_outputs: int
) -> nn.Module:
    """The network of ``architecture`` for inputs of ``input_shape`` with ``n_outputs`` outputs."""
    choices = getattr(architecture, "choices", architecture)
    channels = int(input_shape[0])
    layers: list[nn.Module] = []
    for k in range(LAYERS):
        op = choices[f"op{k}"]
        if op == "maxpool":
            layers.append(nn.MaxPool2d(2))
        elif op in CONVOLUTIONS:
            width = int(choices[f"width{k}"])
            body = nn.Sequential(
                *_convolution(op, channels, width), nn.BatchNorm2d(width), nn.ReLU()
            )
            if choices[f"skip{k}"]:
                shortcut = None
                if width != channels:
                    shortcut = nn.Sequential(
                        nn.Conv2d(channels, width, 1, bias=False), nn.BatchNorm2d(width)
                    )
                body = Residual(body, shortcut)
            layers.append(body)
            channels = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, n_outputs)]
    return nn.Sequential(*layers)


def _convolution(op: str, channels: int, width: int) -> list[nn.Module]:
    if op == "sepconv3x3":
        return [
            nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
            nn.Conv2d(channels, width, 1, bias=False),
        ]
    size = 3 if op == "conv3x3" else 5
    return [nn.Conv2d(channels, width, size, padding=size // 2, bias=False)]


def _if_convolution(k: int, when_conv: tuple, otherwise: tuple):
    """An ``allowed`` function: ``when_conv`` if layer k convolves, else ``otherwise``."""

    def allowed(earlier: Choices) -> tuple:
        return when_conv if earlier[f"op{k}"] in CONVOLUTIONS else otherwise

    return allowed


def _grow(grown: GrowthStep) -> Inheritance:
    """The child's network with the parent's weights and function (``rlnas.space.inheritance``).

    A new convolution is an identity layer when its input is non-negative (it follows a layer
    that ends in ReLU) and it is at least as wide, else it carries the head's map and its
    negation (``2 * n_outputs`` channels or more); both are exact in eval mode. A projection
    shortcut starts at zero on the carried channels. A max-pool changes what the average head
    sees: refused.
    """
    parent, child, step, model = grown.parent, grown.child, grown.number, grown.model
    parent_model, n_outputs = grown.parent_model, grown.n_outputs
    op = child[f"op{step}"]
    if op == "maxpool":
        return refused("a max-pool before the average head changes what the head averages")
    channels, nonnegative = _input_of(parent, step, grown.input_shape)
    layers = sum(1 for k in range(step) if parent[f"op{k}"] != "identity")
    copy_modules(parent_model, model, layers)
    width, skip = int(child[f"width{step}"]), bool(child[f"skip{step}"])
    carry = carry_head(
        parent_model[-1],
        width,
        identity_passes=nonnegative,
        difference_passes=True,
        shortcut=skip and width == channels,
    )
    if carry is None:
        sign = "non-negative" if nonnegative else "signed"
        return refused(
            f"{width} channels can neither pass {channels} {sign} channels on nor carry "
            f"{n_outputs} outputs and their negation"
        )
    block = model[layers]
    *convolutions, norm, _ = block.body if skip else block
    if op == "sepconv3x3":
        identity_kernel(convolutions[0])
    write_rows(convolutions[-1], carry.rows)
    identity_batch_norm(norm, len(carry.rows))
    if skip and width != channels:
        zero_batch_norm(block.shortcut[1], len(carry.rows))
    set_head(model, carry)
    calibrate(model, {norm: len(carry.rows)}, grown.calibration)
    return Inheritance(model, f"{op}: {carry.how}")


inherit = inherit_by_step(build, GROWTH, _grow)


def _input_of(choices: Choices, step: int, input_shape: Sequence[int]) -> tuple[int, bool]:
    """The channels that layer ``step`` receives, and whether they are surely non-negative."""
    channels, nonnegative = int(input_shape[0]), False
    for k in range(step):
        if choices[f"op{k}"] in CONVOLUTIONS:
            width = int(choices[f"width{k}"])
            if not choices[f"skip{k}"]:
                nonnegative = True  # it ends in ReLU
            elif width != channels:
                nonnegative = False  # a batch-normalised projection is added
            channels = width  # an identity shortcut adds its input: the sign stays as it was
    return channels, nonnegative
