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
