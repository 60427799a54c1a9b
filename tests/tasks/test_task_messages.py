"""What a task says of itself reads as plain words and numbers."""

from __future__ import annotations

import numpy as np
import pytest

from rlnas.errors import UserError
from rlnas.tasks import make_task


def test_a_regression_task_has_one_output_in_the_singular() -> None:
    task = make_task("t", np.arange(40.0).reshape(20, 2), np.linspace(0, 1, 20))
    assert ", 1 output, rows" in task.describe()


def test_a_rare_class_is_named_as_a_plain_number() -> None:
    y = np.array([25] * 2 + [3] * 20)
    with pytest.raises(UserError, match=r"class 25 has 2 row") as raised:
        make_task("t", np.zeros((22, 2)), y, "classification")
    assert "np.int64" not in str(raised.value)


def test_a_float_target_with_two_values_says_how_to_classify(caplog) -> None:
    with caplog.at_level("WARNING", logger="rlnas.tasks.task"):
        task = make_task("t", np.zeros((20, 2)), np.array([0.0, 1.0] * 10))
    assert task.kind == "regression"
    assert "2 distinct values (0, 1)" in caplog.text and "pass --kind binary" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="rlnas.tasks.task"):
        make_task("t", np.zeros((20, 2)), np.linspace(0, 1, 20))  # a real regression target
    assert caplog.text == ""


def test_two_class_folders_are_binary_like_two_classes_in_a_csv(tmp_path) -> None:
    from PIL import Image

    from rlnas.tasks import load_task

    rng = np.random.default_rng(0)
    for label in ("cats", "dogs"):
        (tmp_path / label).mkdir()
        for index in range(6):
            pixels = rng.integers(0, 255, size=(4, 4), dtype=np.uint8)
            Image.fromarray(pixels, mode="L").save(tmp_path / label / f"{index}.png")
    assert load_task(f"folder:{tmp_path}").kind == "binary"
    assert load_task(f"folder:{tmp_path}", kind="classification").kind == "classification"
    with pytest.raises(UserError, match="cannot be regression"):
        load_task(f"folder:{tmp_path}", kind="regression")
