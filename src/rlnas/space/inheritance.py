"""Function-preserving growth: the grown network starts from its parent's trained weights.

A progressive episode grows a network one step at a time. Instead of training each step from
scratch, the child (the parent grown by one step) can carry the parent's weights with the new layer
or edge initialised so that the child computes exactly the parent's function, and then train a
little more: Net2Net (Chen et al., ICLR 2016: Net2DeeperNet's identity layer), network morphism
(Wei et al., ICML 2016) and EAS (Cai et al., AAAI 2018), which drove such steps with an RL
controller. A model space that supports it defines ``inherit`` (see ``rlnas.space.models``); this
module holds what those functions share.

The layer a step appends sits just before the network's linear head, so it only has to hand the
head what the head needs. Two constructions do that without changing the function:

- *identity*: the new layer passes its input on unchanged (an identity kernel; a ReLU is the
  identity on inputs that are already non-negative, as after a ReLU), and the head reads those
  units with its old weights;
- *difference*: the new layer computes the head's linear map u and its negation, and the head
  takes ``act(u) - act(-u)``, which equals u for ReLU and exactly for GELU
  (``x·Φ(x) + x·Φ(-x) = x``), whatever the sign of the input. It needs ``2 · n_outputs`` units.

Units left over keep their default random weights and get a zero column in the head: they change
nothing, their head weights learn from the first step and they from the second (zero weights on
both sides would leave them dead). A branch that is added to others (a projection shortcut, a
cell's convolution edge) starts with its last BatchNorm's scale and shift at zero: it adds
exactly zero in both modes, and the scale and shift receive gradient.
Batch normalisation in the new layer is set to the identity *for its running statistics*, so the
function is preserved in eval mode; in train mode it normalises by batch statistics. With a
``calibration`` batch the running statistics are those of the layer's inputs on that batch, so
that train mode is the parent's function on that batch and close to it on similar ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from rlnas.space.core import Architecture, Choices, Growth


@dataclass(frozen=True, eq=False)
class Inheritance:
    """The child's network with the parent's weights and function, or None and why not.

    ``how`` names the construction, or the reason why the step cannot keep the function (then the
    caller trains the child from scratch). ``exact_in_training``: the outputs match in train mode
    too (given the same random draws, such as dropout masks), not only in eval mode.
    """

    model: nn.Module | None
    how: str
    exact_in_training: bool = False

    @property
    def preserved(self) -> bool:
        return self.model is not None


@dataclass(frozen=True, eq=False)
class GrowthStep:
    """One step to inherit across: the trained parent and the child it grows into."""

    parent_model: nn.Module
    parent: Choices
    child: Choices
    number: int
    """Which of the space's growth steps the child adds."""
    model: nn.Module
    """The child's network, built by the space's ``build``, for the step to fill in."""
    input_shape: tuple[int, ...]
    n_outputs: int
    calibration: torch.Tensor | None


Build = Callable[[Choices, Sequence[int], int], nn.Module]
Inherit = Callable[..., Inheritance]


def inherit_by_step(
    build: Build, growth: Growth, grow: Callable[[GrowthStep], Inheritance]
) -> Inherit:
    """A model space's ``inherit`` (``InheritingModelSpace``), from its ``build``, its
    ``growth`` and ``grow``, what one real step does (its docstring becomes ``inherit``'s).

    ``inherit(parent_model, parent_architecture, child_architecture, input_shape, n_outputs,
    calibration=None)`` builds the child, finds the step it adds (a ValueError when it is not
    the parent grown by one step), copies the parent where the step adds nothing, and hands
    the rest to ``grow``.
    """

    def inherit(
        parent_model: nn.Module,
        parent_architecture: Architecture | Mapping,
        child_architecture: Architecture | Mapping,
        input_shape: Sequence[int],
        n_outputs: int,
        calibration: torch.Tensor | None = None,
    ) -> Inheritance:
        parent = getattr(parent_architecture, "choices", parent_architecture)
        child = getattr(child_architecture, "choices", child_architecture)
        model = build(child, input_shape, n_outputs)
        number = grown_step(growth, parent, child)
        if number is None:
            return same_network(parent_model, model)
        shape = tuple(input_shape)
        return grow(
            GrowthStep(parent_model, parent, child, number, model, shape, n_outputs, calibration)
        )

    inherit.__doc__ = grow.__doc__
    return inherit


def refused(reason: str) -> Inheritance:
    """A step that cannot keep the parent's function: the child trains from scratch."""
    return Inheritance(None, reason)


def grown_step(growth: Growth, parent: Choices, child: Choices) -> int | None:
    """The growth step that ``child`` adds to ``parent``, or None if their choices are the same.

    A ValueError when ``child`` is not ``parent`` grown by one step at its end, as
    ``rlnas.space.growth.partial`` gives them along an episode.
    """
    differing = [
        number
        for number, step in enumerate(growth.steps)
        if any(parent[name] != child[name] for name in step)
    ]
    if not differing:
        return None
    later = [name for step in growth.steps[differing[0] :] for name in step]
    if len(differing) > 1 or any(parent[name] != growth.fill[name] for name in later):
        raise ValueError(f"{dict(child)} is not {dict(parent)} grown by one step at its end")
    return differing[0]


def same_network(parent_model: nn.Module, child_model: nn.Module) -> Inheritance:
    """The child builds the same layers as its parent (an identity or 'none' step)."""
    copy_modules(parent_model, child_model, 0).load_state_dict(parent_model.state_dict())
    return Inheritance(child_model, "the step adds nothing: the parent's weights", True)


def copy_modules(parent_model: nn.Module, child_model: nn.Module, count: int) -> nn.Module:
    """The child's first ``count`` layers take the parent's (the same layers, so strict); the
    child moves to the parent's device and takes its mode."""
    device = next(parent_model.parameters()).device
    child_model.to(device).train(parent_model.training)
    for index in range(count):
        child_model[index].load_state_dict(parent_model[index].state_dict())
    return child_model


@torch.no_grad()
def set_head(model: nn.Module, carry: Carry) -> None:
    """The last layer of ``model`` (its linear head) reads the new layer as ``carry`` says."""
    model[-1].weight.copy_(carry.head_weight)
    model[-1].bias.copy_(carry.head_bias)


@dataclass(frozen=True)
class Carry:
    """How a new last layer hands the head its old input: the layer's first units compute
    ``rows @ x`` from its input x, and the head becomes ``head_weight``, ``head_bias``."""

    rows: torch.Tensor
    head_weight: torch.Tensor
    head_bias: torch.Tensor
    how: str


def carry_head(
    head: nn.Linear,
    width: int,
    *,
    identity_passes: bool,
    difference_passes: bool,
    shortcut: bool = False,
    positions: int = 1,
) -> Carry | None:
    """The construction for a new layer of ``width`` units before ``head``, or None if none fits.

    ``identity_passes``: the layer's activation is the identity on its inputs (ReLU on
    non-negative ones); ``difference_passes``: ``act(u) - act(-u) == u`` (ReLU, GELU).
    ``shortcut``: the layer's input is added to its output (a residual of the same width).
    ``positions``: the head reads that many positions per unit (a flattened sequence); only the
    identity construction keeps a per-position head.
    """
    weight, bias = head.weight.detach(), head.bias.detach()
    like = {"dtype": weight.dtype, "device": weight.device}
    outputs, features = weight.shape
    channels = features // positions
    if identity_passes and width >= channels:
        # with a shortcut the layer outputs x + x
        carried = weight.reshape(outputs, channels, positions) / (2 if shortcut else 1)
        head_weight = torch.zeros(outputs, width, positions, **like)
        head_weight[:, :channels] = carried
        rows = torch.eye(channels, **like)
        return Carry(rows, head_weight.reshape(outputs, -1), bias.clone(), "identity layer")
    if difference_passes and positions == 1 and width >= 2 * outputs:
        ones = torch.eye(outputs, **like)
        linear = weight.clone()
        if shortcut:  # the shortcut adds x to both halves: take it out of u beforehand
            linear[:, :outputs] -= ones
            linear[:, outputs : 2 * outputs] += ones
        head_weight = torch.zeros(outputs, width, **like)
        head_weight[:, :outputs] = ones
        head_weight[:, outputs : 2 * outputs] = -ones
        rows = torch.cat([linear, -linear])
        return Carry(rows, head_weight, bias.clone(), "head map and its negation")
    return None


@torch.no_grad()
def write_rows(layer: nn.Conv1d | nn.Conv2d | nn.Linear, rows: torch.Tensor) -> None:
    """The first units of ``layer`` compute ``rows @ x`` at each position: the central tap of
    a kernel holds ``rows``, the other taps and the bias are zero."""
    count = rows.shape[0]
    layer.weight[:count] = 0
    centre = tuple(size // 2 for size in layer.weight.shape[2:])
    layer.weight[(slice(0, count), slice(None), *centre)] = rows.to(layer.weight)
    if layer.bias is not None:
        layer.bias[:count] = 0


@torch.no_grad()
def identity_kernel(layer: nn.Conv2d) -> None:
    """A depthwise convolution that passes each channel on unchanged."""
    layer.weight.zero_()
    layer.weight[(slice(None), 0, *(size // 2 for size in layer.weight.shape[2:]))] = 1


@torch.no_grad()
def identity_batch_norm(norm: nn.BatchNorm1d | nn.BatchNorm2d, count: int) -> None:
    """The first ``count`` channels of ``norm`` pass their input on in eval mode: whatever the
    running statistics, the scale undoes the division and the shift the centring."""
    variance, mean = norm.running_var[:count], norm.running_mean[:count]
    norm.weight[:count] = torch.sqrt(variance + norm.eps)
    norm.bias[:count] = mean


@torch.no_grad()
def zero_batch_norm(norm: nn.BatchNorm1d | nn.BatchNorm2d, count: int | None = None) -> None:
    """The first ``count`` channels of ``norm`` (all by default) output exactly zero in both
    modes, yet their scale and shift receive gradient: a zero-initialised residual branch (Goyal
    et al., 2017, zero the last BatchNorm of each residual block)."""
    norm.weight[:count] = 0
    norm.bias[:count] = 0


@torch.no_grad()
def calibrate(
    model: nn.Module, norms: Mapping[nn.Module, int], inputs: torch.Tensor | None
) -> None:
    """Set the running statistics of each new batch norm to those of its inputs on ``inputs``,
    and its first (carried) channels to the identity for them; a no-op without inputs.

    The variance is the batch's own (not the unbiased estimate), so that in train mode the layer
    is the identity on ``inputs`` exactly, and close to it on batches like them.
    """
    if inputs is None:
        return
    seen: dict[nn.Module, torch.Tensor] = {}
    hooks = [
        norm.register_forward_hook(lambda module, args, _: seen.__setitem__(module, args[0]))
        for norm in norms
    ]
    # in train mode, as training will see them; the forward pass must not move any statistics
    buffers = {name: buffer.clone() for name, buffer in model.named_buffers()}
    training = model.training
    try:
        model.train()(inputs)
    finally:
        model.train(training)
        for hook in hooks:
            hook.remove()
        for name, buffer in model.named_buffers():
            buffer.copy_(buffers[name])
    for norm, count in norms.items():
        values = seen[norm].transpose(0, 1).reshape(seen[norm].shape[1], -1)
        norm.running_mean.copy_(values.mean(dim=1))
        norm.running_var.copy_(values.var(dim=1, unbiased=False))
        identity_batch_norm(norm, count)
