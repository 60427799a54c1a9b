"""Trial logging to TensorBoard or MLflow: install hints when missing, scalars when present."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rlnas.errors import UserError
from rlnas.report import make_logger
from rlnas.search import search
from rlnas.space import Choice, SearchSpace

SPACE = SearchSpace([Choice("a", [0, 1, 2]), Choice("b", [0, 1, 2])])


def _evaluate(architecture) -> dict[str, float]:
    return {"accuracy": (architecture.choices["a"] + architecture.choices["b"]) / 4}


def test_an_unknown_backend_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="choose one of tensorboard, mlflow"):
        make_logger("wandb", tmp_path)


def test_no_backend_logs_nothing_and_passes_each_trial_on(tmp_path: Path) -> None:
    seen: list[tuple[int, int, int]] = []
    logger = make_logger(
        None, tmp_path / "logs", then=lambda t, d, b: seen.append((t.number, d, b))
    )
    result = search(
        SPACE, _evaluate, "random", metric="accuracy", budget=3, seed=0, on_trial=logger
    )
    assert seen == [(0, 1, 3), (1, 2, 3), (2, 3, 3)]
    assert logger.best == result.best.reward
    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize(
    ("backend", "modules", "hint"),
    [
        ("tensorboard", ["torch.utils.tensorboard"], "pip install tensorboard"),
        ("mlflow", ["mlflow", "mlflow.tracking"], "pip install mlflow"),
    ],
)
def test_a_missing_package_says_what_to_install(
    backend: str, modules: list[str], hint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # importing it now fails
    with pytest.raises(UserError, match=hint):
        make_logger(backend, tmp_path)


def test_tensorboard_gets_one_reward_per_trial_and_a_rising_incumbent(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    seen: list[int] = []
    with make_logger("tensorboard", tmp_path / "tb", then=lambda t, d, b: seen.append(d)) as logger:
        search(SPACE, _evaluate, "random", metric="accuracy", budget=6, seed=0, on_trial=logger)
    assert seen == list(range(1, 7))
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert [event.step for event in events.Scalars("reward")] == list(range(6))
    best = [event.value for event in events.Scalars("best_reward")]
    assert best == sorted(best) and len(events.Scalars("metrics/accuracy")) == 6


@pytest.mark.slow  # MLflow sets up its SQLite database in about 20 s
def test_mlflow_gets_one_reward_per_trial(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    with make_logger("mlflow", tmp_path / "mlruns", experiment="toy") as logger:
        search(SPACE, _evaluate, "random", metric="accuracy", budget=5, seed=0, on_trial=logger)
    history = logger.client.get_metric_history(logger.run_id, "reward")
    assert sorted(metric.step for metric in history) == list(range(5))
    assert logger.client.get_run(logger.run_id).info.status == "FINISHED"
