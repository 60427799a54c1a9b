"""Progressive search that reuses what it trained: steps grow from their parents' weights."""

from __future__ import annotations

import json
import sys

import pytest

import rlnas
from rlnas import cli
from rlnas.errors import UserError
from rlnas.estimators.recipe import TrainingRecipe
from rlnas.estimators.training import TrainingEvaluator, load_weights
from rlnas.evaluator import Job, Lineage
from rlnas.execution import make_executor
from rlnas.inheriting import InheritanceSettings, parent_of
from rlnas.rewards import Objective
from rlnas.space import mlp
from rlnas.space.models import build_model, model_space
from rlnas.tasks import load_task

GROWING = {
    "task": "digits",
    "space": "mlp",
    "strategy": "q-learning",
    "mode": "progressive",
    "inherit": True,
    "step_epochs": 1,
    "epochs": 3,
    "data_fraction": 0.3,
    "seed": 0,
}


@pytest.fixture(scope="module")
def digits():
    return load_task("digits")


def mlp_architecture(evaluator: TrainingEvaluator, *widths: int, activation: str = "relu"):
    choices = {"activation": activation, "dropout": 0.0}
    choices |= {f"width{k}": "none" for k in range(mlp.MAX_DEPTH)}
    choices |= {f"width{k}": width for k, width in enumerate(widths)}
    return evaluator.search_space().architecture(choices)


def test_the_parent_of_a_step_is_the_step_before_and_a_first_step_has_none(digits) -> None:
    evaluator = TrainingEvaluator(digits, "mlp", epochs=1)
    space = evaluator.search_space()
    child = mlp_architecture(evaluator, 64, 32, 128)
    assert parent_of(space, child) == mlp_architecture(evaluator, 64, 32)
    assert parent_of(space, mlp_architecture(evaluator, 64)) is None


def test_a_grown_step_trains_from_its_parents_weights(digits) -> None:
    """With a learning rate too small to learn anything, the grown child scores what its
    parent scored (it computes the parent's function); from scratch it scores like chance."""
    evaluator = TrainingEvaluator(digits, "mlp", epochs=3, seed=0)
    parent, child = mlp_architecture(evaluator, 64), mlp_architecture(evaluator, 64, 128)
    trained = evaluator.grow(parent, 3, Lineage())
    assert trained.start == "scratch: no parent"
    network = build_model("mlp", parent, digits.input_shape, digits.n_outputs)
    network.load_state_dict(load_weights(trained.state))
    parent_accuracy = evaluator.validate(network)["accuracy"]
    assert parent_accuracy > 0.8

    frozen = TrainingEvaluator(digits, "mlp", epochs=3, recipe=TrainingRecipe(lr=1e-12), seed=0)
    grown = frozen.grow(child, 1, Lineage(parent, trained.state))
    assert grown.start is not None and grown.start.startswith("inherited")
    assert grown.metrics["epochs"] == 1  # step_epochs, not the 3 of a network from scratch
    assert grown.metrics["accuracy"] == pytest.approx(parent_accuracy, abs=1e-9)
    scratch = frozen.grow(child, 1, Lineage(why_not="a first step"))
    assert scratch.start == "scratch: a first step" and scratch.metrics["epochs"] == 3
    assert scratch.metrics["accuracy"] < parent_accuracy - 0.3


def test_a_step_the_space_cannot_grow_keeping_the_function_trains_from_scratch(digits) -> None:
    evaluator = TrainingEvaluator(digits, "mlp", epochs=2, seed=0)
    parent = mlp_architecture(evaluator, 64, activation="tanh")
    child = mlp_architecture(evaluator, 64, 32, activation="tanh")
    trained = evaluator.grow(parent, 2, Lineage())
    grown = evaluator.grow(child, 1, Lineage(parent, trained.state))
    assert grown.start is not None and grown.start.startswith("scratch: a tanh layer")
    assert grown.metrics["epochs"] == 2


def test_trials_record_their_parent_the_epochs_and_how_they_started(tmp_path, digits) -> None:
    space = model_space("mlp", digits.input_shape)
    store = tmp_path / "runs.db"
    result = rlnas.run(rlnas.SearchConfig(**GROWING, budget=12, store=store, name="grow"))
    trials = {trial.architecture.key: trial for trial in result.trials}
    inherited = [t for t in result.trials if t.start.startswith("inherited")]
    assert inherited, [t.start for t in result.trials]
    for trial in inherited:
        parent = trials[trial.parent]
        assert parent.number < trial.number
        assert parent.architecture == parent_of(space, trial.architecture)
        assert trial.metrics["epochs"] == 1
    for trial in result.trials:
        if trial.start == "scratch: a first step":
            assert trial.parent is None and trial.metrics["epochs"] == 3
    with rlnas.Store(store, read_only=True) as opened:
        stored = opened.trials(opened.experiment("grow"))
        best = opened.weights(opened.experiment("grow"), result.best.architecture.key)
    assert [(t.parent, t.start) for t in stored] == [(t.parent, t.start) for t in result.trials]
    assert best is not None  # kept for train-final --from-inherited


def test_a_resumed_search_grows_from_the_parents_in_the_store(tmp_path) -> None:
    """Stopped after 4 trials and resumed with a larger budget, trial 4 still grows from its
    parent's stored weights: the run matches one that never stopped."""
    whole = rlnas.run(rlnas.SearchConfig(**GROWING, budget=12, store=tmp_path / "a.db"))
    assert whole.trials[4].start.startswith("inherited")
    store = tmp_path / "b.db"
    rlnas.run(rlnas.SearchConfig(**GROWING, budget=4, store=store, name="run"))
    resumed = rlnas.resume(store, "run", budget=12)

    def seen(trials):
        return [(t.architecture.key, t.metrics["accuracy"], t.parent, t.start) for t in trials]

    assert seen(resumed.trials) == seen(whole.trials)


def test_two_worker_processes_receive_the_parent_with_the_child(digits) -> None:
    evaluator = TrainingEvaluator(digits, "mlp", epochs=2, data_fraction=0.3, seed=0)
    parent = mlp_architecture(evaluator, 64)
    trained = evaluator.grow(parent, 2, Lineage())
    executor = make_executor("process", 2)
    executor.start(evaluator, Objective("accuracy"))
    try:
        children = [mlp_architecture(evaluator, 64, width) for width in (32, 128)]
        for child in children:
            executor.submit(Job(child, 1, lineage=Lineage(parent, trained.state)))
        trials = []
        while executor.in_flight:
            trials += executor.wait()
    finally:
        executor.close()
    assert {t.architecture.key for t in trials} == {child.key for child in children}
    for trial in trials:
        assert trial.parent == parent.key and trial.start.startswith("inherited"), trial
        assert trial.metrics["epochs"] == 1 and trial.state is not None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"mode": "one-shot"}, "inherit needs progressive growth"),
        ({"scheduler": "asha"}, "inherit and scheduler asha"),
        ({"step_epochs": 5}, "step_epochs (5) exceeds the epochs per candidate (3)"),
    ],
)
def test_settings_that_cannot_inherit_are_one_line_errors(settings, message, tmp_path) -> None:
    store = tmp_path / "runs.db"
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        rlnas.run(rlnas.SearchConfig(**{**GROWING, **settings, "store": store}))
    assert "\n" not in str(error.value)
    assert not store.exists()


def test_an_evaluator_that_cannot_grow_is_refused_before_anything_is_stored(tmp_path) -> None:
    space = rlnas.SearchSpace([rlnas.Choice("x", (1, 2))])
    store = tmp_path / "runs.db"
    with pytest.raises(UserError, match="inherit needs an evaluator that trains by epochs"):
        rlnas.search(
            space,
            lambda a: {"accuracy": 1.0},
            "q-learning",
            store=store,
            inheritance=InheritanceSettings(inherit=True),
        )
    assert not store.exists()


class NoInheritance:
    """The mlp family without ``inherit``: its steps cannot start from a parent."""

    space = staticmethod(mlp.space)
    build = staticmethod(mlp.build)


def test_a_space_that_cannot_inherit_is_refused(digits) -> None:
    evaluator = TrainingEvaluator(digits, NoInheritance(), epochs=2)
    strategy = rlnas.make_strategy(
        "q-learning", evaluator.search_space(), episodes=rlnas.EpisodeSettings(mode="progressive")
    )
    with pytest.raises(UserError, match="does not inherit weights"):
        rlnas.search(
            evaluator.search_space(),
            evaluator,
            strategy,
            inheritance=InheritanceSettings(inherit=True),
        )


def run_cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    return exit_.value.code or 0


def test_the_cli_searches_with_inherit_shows_chains_and_fine_tunes_the_best(
    tmp_path, monkeypatch, capsys
) -> None:
    store = str(tmp_path / "runs.db")
    options = [f"--{key.replace('_', '-')}={value}" for key, value in GROWING.items()]
    options = [o for o in options if not o.startswith("--inherit")] + ["--inherit"]
    assert (
        run_cli(["rlnas", "search", *options, "--budget=8", f"--store={store}"], monkeypatch) == 0
    )
    capsys.readouterr()
    assert run_cli(["rlnas", "show", f"--store={store}"], monkeypatch) == 0
    shown = capsys.readouterr().out
    assert "growth chains" in shown and "inherited" in shown and " -> " in shown
    assert run_cli(["rlnas", "show", f"--store={store}", "--json"], monkeypatch) == 0
    assert all("start" in trial for trial in json.loads(capsys.readouterr().out))
    out = tmp_path / "final"
    argv = ["rlnas", "train-final", f"--store={store}", "--epochs=1", f"--out={out}"]
    assert run_cli([*argv, "--from-inherited"], monkeypatch) == 0
    assert "fine-tuned from its inherited weights" in capsys.readouterr().out
    assert json.loads((out / "metrics.json").read_text())["from_inherited"] is True


def test_train_final_from_inherited_without_stored_weights_is_one_line(
    tmp_path, monkeypatch, capsys
) -> None:
    store = str(tmp_path / "runs.db")
    settings = {**GROWING, "inherit": False, "budget": 2, "store": store}
    rlnas.run(rlnas.SearchConfig(**settings))
    argv = ["rlnas", "train-final", f"--store={store}", "--epochs=1", f"--out={tmp_path / 'f'}"]
    assert run_cli([*argv, "--from-inherited"], monkeypatch) == 2
    error = capsys.readouterr().err.strip()
    assert "has no stored weights" in error and "\n" not in error
