"""What the CLI shows while it works, when its output goes to a file: a line per finished trial
(and per final-training epoch), in the metric's own units, written as it goes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

CLI = "import sys; from rlnas.cli import main; sys.argv[0] = 'rlnas'; main()"
TRIAL_LINE = re.compile(
    r"^trial (\d+) \[(\d+)/3\] (\w+): mse ([\d.e+]+), [\d.]+ s; best mse ([\d.e+]+)$"
)


def _rlnas(arguments: list[str], log: Path, cwd: Path) -> int:
    """Run the CLI in its own process with stdout and stderr going to ``log`` (not a terminal)."""
    with log.open("w") as output:
        done = subprocess.run(
            [sys.executable, "-c", CLI, *arguments],
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            timeout=300,
        )
    return done.returncode


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("progress")
    log = folder / "search.log"
    arguments = ["search", "--task", "diabetes", "--space", "mlp", "--strategy", "random"]
    arguments += ["--budget", "3", "--epochs", "1", "--seed", "0", "--store", "runs.db"]
    assert _rlnas(arguments, log, folder) == 0, log.read_text()
    return folder, log.read_text().splitlines()


def test_a_search_writing_to_a_file_prints_a_line_per_trial(searched) -> None:
    _, lines = searched
    trials = [TRIAL_LINE.match(line) for line in lines]
    found = [match for match in trials if match is not None]
    assert [int(match[2]) for match in found] == [1, 2, 3], lines
    assert all(match[3] == "complete" for match in found)
    mse = [float(match[4]) for match in found]
    # the best so far is the lowest mse so far, in mse (not the negated reward)
    assert [float(match[5]) for match in found] == pytest.approx(
        [min(mse[: index + 1]) for index in range(3)], rel=1e-3
    )
    assert lines.index(found[0].group(0)) < lines.index(
        next(x for x in lines if x.startswith("best of"))
    )
    assert not any(line.startswith("searching with") for line in lines), "no bar in a file"


def test_train_final_without_epochs_finds_them_and_says_so(searched) -> None:
    folder, _ = searched
    log = folder / "final.log"
    assert _rlnas(["train-final", "--store", "runs.db", "--out", "final"], log, folder) == 0
    lines = log.read_text().splitlines()
    finding = [line for line in lines if line.startswith("finding the epoch count: epoch ")]
    retraining = [line for line in lines if line.startswith("final training: epoch ")]
    assert finding and re.search(r"loss [\d.]+, mse [\d.e+]+$", finding[0]), lines
    metrics = json.loads((folder / "final" / "metrics.json").read_text())
    chosen = metrics["epochs_chosen_by"]
    assert metrics["epochs"] == chosen["best_epoch"] == len(retraining)
    assert len(finding) == chosen["epochs_trained"] <= chosen["best_epoch"] + chosen["patience"]
    assert "early stopping on the validation rows" in chosen["rule"]


def test_the_experiment_records_its_split(searched) -> None:
    from rlnas.store import Store
    from rlnas.tasks import load_task
    from rlnas.tasks.split import split_record

    folder, _ = searched
    with Store(folder / "runs.db", read_only=True) as store:
        split = store.experiment().config["split"]
    assert split == split_record(load_task("diabetes").indices)
    assert split["train"]["rows"] == 265 and len(split["train"]["sha256"]) == 64
