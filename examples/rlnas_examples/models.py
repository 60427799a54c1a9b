"""A model family of one's own: small convolutional networks for images, written only from
rlnas's documented protocol (``rlnas.space.models``): ``space(input_shape)`` and
``build(architecture, input_shape, n_outputs)``.

Search it with ``rlnas search --task digits --space rlnas_examples.models:TinyConvNet`` (with
``examples/`` on ``PYTHONPATH``) or ``TrainingEvaluator(task, TinyConvNet)`` in Python. It is
made of standard torch layers only, so it exports (TorchScript, ONNX, standalone source) and the
shared-weight estimators can share its layers; it declares how it grows, so progressive mode
works too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import nn

from rlnas import Architecture, Choice, Growth, SearchSpace

WIDTHS = (4, 8, 16)
LAYERS = 2


class TinyConvNet:
    """Up to two 3x3 convolutions (a width each, or 'none'), then global pooling and a head."""

    INPUT_RANK = 3  # optional: (channels, height, width); another shape is refused up front
    NAME = "tiny-conv-net"

    def space(self, input_shape: Sequence[int]) -> SearchSpace:
        decisions = [Choice(f"width{k}", ("none", *WIDTHS)) for k in range(LAYERS)]
        growth = Growth(
            steps=[(f"width{k}",) for k in range(LAYERS)],
            fill={f"width{k}": "none" for k in range(LAYERS)},
        )
        return SearchSpace(decisions, name=self.NAME, growth=growth)

    def build(
        self, architecture: Architecture | Mapping, input_shape: Sequence[int], n_outputs: int
    ) -> nn.Module:
        choices = architecture.choices if isinstance(architecture, Architecture) else architecture
        channels = int(input_shape[0])
        layers: list[nn.Module] = []
        for k in range(LAYERS):
            width = choices[f"width{k}"]
            if width == "none":
                continue
            layers += [nn.Conv2d(channels, int(width), 3, padding=1), nn.ReLU()]
            channels = int(width)
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, n_outputs)]
        return nn.Sequential(*layers)
