"""The report says what happened in the units of the searched metric: statuses apart, a y-axis
per metric, options and layers by name, numbers formatted, the final test result shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rlnas.report import load_runs, render_report
from rlnas.report.figures import diagnostics, incumbent_by_time, trajectory_by_trial
from rlnas.report.html import format_number
from rlnas.space import Architecture, Choice, SearchSpace
from rlnas.store import Store
from rlnas.trial import Status, Trial

SPACE = SearchSpace(
    [
        Choice("op0", ("conv3x3", "identity")),
        Choice("width0", ("none", 16, 64)),
        Choice("skip0", (False, True)),
        Choice("op1", ("conv3x3", "maxpool")),
    ]
)
DECISIONS = {choice.name: [str(o) for o in choice.options] for choice in SPACE.choices}
MSE = [4000.0, 3239.92, 3500.0, 2968.0]


def _architecture(number: int) -> Architecture:
    return SPACE.architecture(
        {"op0": "conv3x3", "width0": 64, "skip0": number % 2 == 1, "op1": "maxpool"}
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A regression search (mse, minimized) with every status, a curve per trial but no
    scheduler, a recorded final training; and an accuracy search with 12 entropy lines."""
    path = tmp_path_factory.mktemp("reads") / "runs.db"
    with Store(path) as opened:
        config = {"space": "chain-cnn", "strategy": "ppo", "metric": "mse"}
        config |= {"direction": "minimize", "decisions": DECISIONS}
        regression = opened.create_experiment("regression", config, seed=0)
        statuses = [Status.COMPLETE, Status.PRUNED, Status.FAILED, Status.REJECTED]
        for number, status in enumerate([Status.COMPLETE] * 4 + statuses[1:]):
            mse = MSE[number % 4]
            fine = status in (Status.COMPLETE, Status.PRUNED)
            metrics = {"mse": mse, "params": 6026.0, "flops": 680576.0, "latency_ms": 0.22578}
            trial = Trial(
                number,
                _architecture(number),
                metrics if fine else {},
                -mse if fine else None,
                status,
                None if fine else "it broke",
                started_at=float(number),
                duration_s=1.0,
                curve=(mse * 1.1, mse) if fine else (),
            )
            probabilities = {name: [1 / len(o)] * len(o) for name, o in DECISIONS.items()}
            opened.record_trial(regression, trial, diagnostics={"probabilities": probabilities})
        final = {"trial": 3, "epochs": 17, "epochs_chosen_by": "early stopping on validation"}
        final |= {"test": {"mse": 2990.5}, "out": "/somewhere/final"}
        opened.update_config(regression, {**regression.config, "final": final})

        classification = opened.create_experiment(
            "classification", {"space": "custom", "strategy": "ppo", "metric": "accuracy"}, 0
        )
        for number in range(3):
            entropy = {f"decision{i}": 1.0 + i + number for i in range(12)}
            trial = Trial(number, _architecture(number), {"accuracy": 0.5 + number / 10}, 0.5)
            opened.record_trial(classification, trial, diagnostics={"entropy": entropy})
    return path


@pytest.fixture(scope="module")
def page(store: Path) -> str:
    return render_report(load_runs(store))


def _row(page: str, name: str) -> list[str]:
    row = re.search(rf"<tr><td>{name}</td>(.*?)</tr>", page)
    assert row is not None
    return re.findall(r"<td[^>]*>(.*?)</td>", row[1])


def test_the_experiments_table_counts_each_status_apart_and_shows_the_best_in_its_units(
    page: str,
) -> None:
    assert "<th>complete</th><th>pruned</th><th>failed</th><th>rejected</th>" in page
    cells = _row(page, "regression")
    assert cells[4:] == ["7", "4", "1", "1", "1", "2968"]  # trials, statuses, best mse
    assert "-2968" not in page and "-3239" not in page  # never the negated reward


def test_each_metric_gets_its_own_y_axis_and_the_values_are_the_metric(store: Path) -> None:
    runs = load_runs(store)
    for figure in (trajectory_by_trial(runs), incumbent_by_time(runs)):
        axes = {trace.yaxis for trace in figure.data}
        assert axes == {"y", "y2"}
        titles = [annotation.text for annotation in figure.layout.annotations]
        assert titles == ["mse (minimize)", "accuracy (maximize)"]
    regression = next(t for t in trajectory_by_trial(runs).data if t.name == "regression: mse")
    assert list(regression.y) == MSE  # the complete trials, in mse
    incumbent = next(t for t in trajectory_by_trial(runs).data if t.name == "regression: incumbent")
    assert list(incumbent.y) == [4000.0, 3239.92, 3239.92, 2968.0]


def test_heat_map_rows_read_the_option_values(store: Path) -> None:
    run = next(run for run in load_runs(store) if run.name == "regression")
    (heat_maps,) = diagnostics(run)
    labels = [list(trace.y) for trace in heat_maps.data]
    assert labels[1] == ["none", "16", "64"] and labels[2] == ["False", "True"]


def test_twelve_entropy_lines_have_twelve_colours(store: Path) -> None:
    run = next(run for run in load_runs(store) if run.name == "classification")
    (entropy,) = diagnostics(run)
    assert len({trace.line.color for trace in entropy.data}) == 12


def test_the_best_table_shows_the_network_and_formatted_numbers(page: str) -> None:
    table = page.split("<h3>regression</h3>", 1)[1].split("</table>", 1)[0]
    assert "<th>network</th><th>mse</th><th>params</th><th>flops</th><th>latency</th>" in table
    assert "conv3x3 (width 64 · skip) → maxpool" in table
    assert "6.03k" in table and "681k" in table and "0.226 ms" in table
    assert "reward" not in table and "width0" not in table


def test_no_rungs_without_a_scheduler_and_the_final_test_is_shown(page: str) -> None:
    assert "rungs" not in page  # curves alone (every trained trial has one) are no scheduler
    final = page.split("<h2>Final training</h2>", 1)[1]
    assert "early stopping on validation" in final and "mse 2990" in final
    assert "/somewhere/final" in final


@pytest.mark.parametrize(
    ("value", "name", "text"),
    [
        (6026.0, "params", "6.03k"),
        (1.5e9, "flops", "1.5G"),
        (12.0, "params", "12"),
        (0.22578, "latency_ms", "0.226 ms"),
        (1.4, "train_time_s", "1.4 s"),
        (17.0, "epochs", "17"),
        (0.912345, "accuracy", "0.9123"),
        (3239.92, "mse", "3240"),
    ],
)
def test_numbers_are_formatted_with_their_units(value: float, name: str, text: str) -> None:
    assert format_number(value, name) == text
