"""RLSampler through Optuna's own loop, as Optuna tests its samplers: optimum, seeds, storages."""

from __future__ import annotations

import warnings

import optuna
import pytest

from rlnas.errors import UserError
from rlnas.integrations.optuna import RLSampler

optuna.logging.set_verbosity(optuna.logging.WARNING)

OPTIONS = ("a", "b", "c", "d")
BEST = {f"x{i}": OPTIONS[(i * 3 + 1) % 4] for i in range(5)}
"""The toy optimum: each of five decisions has one best option, worth more than the others."""


def toy(trial: optuna.Trial) -> float:
    values = {f"x{i}": trial.suggest_categorical(f"x{i}", OPTIONS) for i in range(5)}
    return sum(
        1.0 if values[name] == best else 0.1 * OPTIONS.index(values[name])
        for name, best in BEST.items()
    )


def params(study: optuna.Study) -> list[dict[str, object]]:
    return [trial.params for trial in study.trials]


@pytest.mark.slow  # about 7 CPU s per seed: mcts refits its reward model as trials come in
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mcts_finds_the_toy_optimum_within_60_trials(seed: int) -> None:
    study = optuna.create_study(direction="maximize", sampler=RLSampler("mcts", seed=seed))
    study.optimize(toy, n_trials=60)
    assert study.best_params == BEST
    assert study.best_value == 5.0


def test_same_seed_same_study_and_another_seed_another() -> None:
    studies = []
    for seed in (3, 3, 4):
        study = optuna.create_study(sampler=RLSampler("ppo", seed=seed))  # minimizes
        study.optimize(toy, n_trials=12)
        studies.append(params(study))
    assert studies[0] == studies[1]
    assert studies[0] != studies[2]


def test_a_study_reloaded_from_sqlite_continues_as_the_uninterrupted_one(tmp_path) -> None:
    whole = optuna.create_study(
        storage=f"sqlite:///{tmp_path / 'whole.db'}", sampler=RLSampler("ppo", seed=5)
    )
    whole.optimize(toy, n_trials=22)
    storage = f"sqlite:///{tmp_path / 'killed.db'}"
    first = optuna.create_study(storage=storage, study_name="s", sampler=RLSampler("ppo", seed=5))
    first.optimize(toy, n_trials=13)
    del first  # a new process: a new sampler that knows only the storage
    reloaded = optuna.load_study(study_name="s", storage=storage, sampler=RLSampler("ppo", seed=5))
    reloaded.optimize(toy, n_trials=9)
    assert params(reloaded) == params(whole)


def test_pruned_and_failed_trials_are_told_and_the_study_goes_on() -> None:
    def objective(trial: optuna.Trial) -> float:
        value = toy(trial)
        if trial.number % 5 == 3:
            raise RuntimeError("a failed evaluation")
        if trial.number % 5 == 4:
            trial.report(value / 2, step=1)
            raise optuna.TrialPruned()
        return value

    sampler = RLSampler("q-learning", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=20, catch=(RuntimeError,))
    states = [trial.state for trial in study.trials]
    assert states.count(optuna.trial.TrialState.FAIL) == 4
    assert states.count(optuna.trial.TrialState.PRUNED) == 4
    assert sampler._proposals is not None and sampler._proposals.told == 19


def test_floats_and_changing_parameters_fall_back_with_one_warning() -> None:
    def objective(trial: optuna.Trial) -> float:
        kind = trial.suggest_categorical("kind", ["small", "large"])
        rate = trial.suggest_float("rate", 1e-3, 1.0, log=True)
        if kind == "large":
            trial.suggest_categorical("extra", [1, 2])  # comes and goes
        return rate + (kind == "large")

    study = optuna.create_study(sampler=RLSampler("random", seed=0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(objective, n_trials=15)
    mine = [w for w in caught if "RLSampler" in str(w.message)]
    assert len(mine) == 1
    assert "rate" in str(mine[0].message)
    rates = {trial.params["rate"] for trial in study.trials}
    assert len(rates) == 15  # drawn by the random sampler, not fixed


def test_parallel_jobs_with_storage_run_every_trial(tmp_path) -> None:
    storage = f"sqlite:///{tmp_path / 'jobs.db'}"
    study = optuna.create_study(
        storage=storage, direction="maximize", sampler=RLSampler("evolution", seed=0)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(toy, n_trials=24, n_jobs=3)
    assert not [w for w in caught if "RLSampler" in str(w.message)]  # all five are modelled
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(complete) == 24
    assert study.best_value > 3.0


def test_an_unknown_strategy_or_option_is_refused_at_once() -> None:
    with pytest.raises(UserError, match="unknown strategy 'nope'"):
        RLSampler("nope")
    with pytest.raises(UserError, match="no option 'speed'"):
        RLSampler("ppo", speed=3)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=RLSampler("random"))
    with pytest.raises(UserError, match="one objective"):
        study.optimize(lambda t: (toy(t), 0.0), n_trials=2)


def test_a_pickled_sampler_continues_the_study_as_the_original_would() -> None:
    import pickle

    sampler = RLSampler("q-learning", seed=7)
    study = optuna.create_study(sampler=sampler)
    study.optimize(toy, n_trials=8)
    copy = pickle.loads(pickle.dumps(sampler))
    twin = optuna.create_study(sampler=copy)
    for trial in study.trials:
        twin.add_trial(trial)
    study.optimize(toy, n_trials=6)
    twin.optimize(toy, n_trials=6)
    assert params(twin) == params(study)
