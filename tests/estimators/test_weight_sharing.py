"""Weight sharing: children share layers, it learns, and a seed and call order fix the result."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

import rlnas
from rlnas.estimators import WeightSharingEvaluator
from rlnas.tasks import load_task

STEPS = 3


@pytest.fixture(scope="module")
def digits():
    return load_task("digits")


def sample(space: rlnas.SearchSpace, count: int, seed: int = 0) -> list[rlnas.Architecture]:
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(count)]


def without_time(metrics: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in metrics.items() if k != "estimator_s"}


def test_children_with_a_common_layer_share_its_weights(digits) -> None:
    evaluator = WeightSharingEvaluator(digits, "chain-cnn", steps=STEPS)
    space = evaluator.search_space()
    conv = {"op0": "conv3x3", "width0": 16, "skip0": False}
    rest = {f"{d}{k}": v for k in (1, 2, 3) for d, v in (("op", "identity"), ("width", "none"))}
    first = space.architecture({**conv, **rest, **{f"skip{k}": False for k in (1, 2, 3)}})
    second = space.architecture(
        {
            **conv,
            **rest,
            "op1": "conv5x5",
            "width1": 32,
            "skip1": False,
            "skip2": False,
            "skip3": False,
        }
    )
    (_, one), (_, two) = evaluator.shared.child(first), evaluator.shared.child(second)
    assert one["0.0.weight"] == two["0.0.weight"]  # the first convolution: one bank tensor
    bank = evaluator.shared.bank
    before = {key: bank[key].detach().clone() for key in one.values()}
    evaluator(second)
    assert not torch.equal(bank[one["0.0.weight"]], before[one["0.0.weight"]])
    assert torch.equal(bank[one["3.weight"]], before[one["3.weight"]])  # first's head: not used


def test_narrower_children_use_a_slice_and_smaller_kernels_the_centre(digits) -> None:
    evaluator = WeightSharingEvaluator(digits, "cell-cnn", steps=STEPS)
    shared = evaluator.shared
    space = evaluator.search_space()
    wide = space.architecture({edge: "conv3x3" for edge in space.names})
    narrow = space.architecture({edge: "conv1x1" for edge in space.names})
    model, keys = shared.child(wide)
    small, small_keys = shared.child(narrow)
    assert keys["2.edges.01.1.weight"] == small_keys["2.edges.01.1.weight"]
    big = shared.weights(model, keys)["2.edges.01.1.weight"]
    centre = shared.weights(small, small_keys)["2.edges.01.1.weight"]
    assert big.shape[-2:] == (3, 3) and centre.shape[-2:] == (1, 1)
    assert torch.equal(centre, big[:, :, 1:2, 1:2])


def test_the_shared_weights_learn(digits) -> None:
    evaluator = WeightSharingEvaluator(digits, "chain-cnn", steps=5)
    architecture = sample(evaluator.search_space(), 1, seed=3)[0]
    first = evaluator(architecture)["accuracy"]
    for _ in range(6):
        last = evaluator(architecture)
    assert last["accuracy"] > max(0.5, first)  # chance is 0.1
    assert last["shared_steps"] == 35 and last["estimator_s"] > 0
    assert last["params"] > 0 and last["flops"] > 0


def test_same_seed_and_calls_give_the_same_metrics(digits) -> None:
    def run(seed: int) -> list[dict[str, float]]:
        evaluator = WeightSharingEvaluator(digits, "cell-cnn", steps=STEPS, seed=seed)
        return [without_time(evaluator(a)) for a in sample(evaluator.search_space(), 3)]

    first = run(0)
    assert run(0) == first
    assert run(1) != first


def test_resumes_exactly_from_its_state(digits) -> None:
    original = WeightSharingEvaluator(digits, "chain-cnn", steps=STEPS)
    architectures = sample(original.search_space(), 4)
    for architecture in architectures[:2]:
        original(architecture)
    buffer = io.BytesIO()  # what a store does with a checkpoint
    torch.save(original.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    resumed = WeightSharingEvaluator(digits, "chain-cnn", steps=STEPS)
    resumed.load_state_dict(state)
    for architecture in architectures[2:]:
        assert without_time(resumed(architecture)) == without_time(original(architecture))


@pytest.mark.parametrize("strategy", ["random", "evolution", "reinforce", "mcts"])
def test_searches_with_any_strategy(digits, strategy: str) -> None:
    evaluator = WeightSharingEvaluator(digits, "chain-cnn", steps=2)
    result = rlnas.search(evaluator.search_space(), evaluator, strategy=strategy, budget=4)
    assert len(result.trials) == 4 and result.best is not None
    assert all("estimator_s" in trial.metrics for trial in result.trials if not trial.failed)
