"""Extra reward-model features of NAS-Bench-Graph architectures (``SearchSpace.features``).

A NAS-Bench-Graph GNN (Qin et al., NeurIPS 2022) has four computing nodes: the link pattern
``"a-b-c-d"`` says which earlier node feeds each one (0 is the graph input, ``k`` node ``k``'s
output), and nodes that feed no later node are the outputs. The one-hot encoding treats the link
pattern as one opaque option; these functions say what it means:

- ``operation_counts``: how many nodes apply each operation (NASLib's "op counts");
- ``path_position_counts``: over every path from the input to an output node, how often each
  operation sits at each depth — a truncated form of the path encoding of BANANAS (White et al.,
  AAAI 2021), whose full form (one column per operation sequence) would have 7,380 columns here.

Both work for any dataset's operation list.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rlnas.space.core import Choices, FeatureFunction

NODES = 4


def _parents(choices: Choices) -> list[int]:
    return [int(node) for node in str(choices["link"]).split("-")]


def operation_counts(operations: Sequence[str]) -> FeatureFunction:
    """A feature function: the number of nodes applying each of ``operations``."""
    position = {name: index for index, name in enumerate(operations)}

    def counts(choices: Choices) -> np.ndarray:
        found = np.zeros(len(operations))
        for node in range(NODES):
            found[position[str(choices[f"op{node}"])]] += 1
        return found

    return counts


def path_position_counts(operations: Sequence[str]) -> FeatureFunction:
    """A feature function: per (depth, operation), how many input-to-output paths have it there."""
    position = {name: index for index, name in enumerate(operations)}

    def counts(choices: Choices) -> np.ndarray:
        parents = _parents(choices)
        outputs = set(range(1, NODES + 1)) - set(parents)
        found = np.zeros((NODES, len(operations)))
        for output in outputs:
            path = []
            node = output
            while node:  # walk back to the input (0)
                path.append(str(choices[f"op{node - 1}"]))
                node = parents[node - 1]
            for depth, operation in enumerate(reversed(path)):
                found[depth, position[operation]] += 1
        return found.ravel()

    return counts


def nas_bench_graph_features(operations: Sequence[str]) -> tuple[FeatureFunction, ...]:
    """Both extra feature functions for a NAS-Bench-Graph space with these operations."""
    return operation_counts(operations), path_position_counts(operations)
