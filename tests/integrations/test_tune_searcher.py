"""RLSearcher inside Ray Tune: a local run with ASHA and a concurrency limit, and save/restore."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

ray = pytest.importorskip("ray")
from ray import tune  # noqa: E402
from ray.tune.schedulers import ASHAScheduler  # noqa: E402
from ray.tune.search import ConcurrencyLimiter  # noqa: E402

from rlnas.errors import UserError  # noqa: E402
from rlnas.integrations.tune import RLSearcher  # noqa: E402

OPTIONS = ("a", "b", "c", "d")
BEST = {f"x{i}": OPTIONS[(i * 3 + 1) % 4] for i in range(5)}
ITERATIONS = 4


def score(config: dict[str, str]) -> float:
    """Each decision has one best option; the toy optimum scores 5."""
    return sum(
        1.0 if config[name] == best else 0.1 * OPTIONS.index(config[name])
        for name, best in BEST.items()
    )


def trainable(config: dict[str, str]) -> None:
    for iteration in range(1, ITERATIONS + 1):  # the score grows with training, as ASHA expects
        tune.report({"score": score(config) * iteration / ITERATIONS})


SPACE = {f"x{i}": tune.choice(OPTIONS) for i in range(5)}
RANDOM_MEAN = 5 * (0.25 + 0.75 * 0.1 * 1.5)  # one option scores 1, the others 0.1 * index


@pytest.fixture(scope="module")
def local_ray():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        # the workers import this test module's trainable by name
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(filter(None, sys.path))}},
    )
    yield
    ray.shutdown()


@pytest.mark.slow
def test_ppo_with_asha_and_max_concurrent_learns_beyond_random(local_ray, tmp_path) -> None:
    searcher = RLSearcher("ppo", seed=0)
    tuner = tune.Tuner(
        trainable,
        param_space=SPACE,
        tune_config=tune.TuneConfig(
            metric="score",
            mode="max",
            search_alg=ConcurrencyLimiter(searcher, max_concurrent=2),
            scheduler=ASHAScheduler(max_t=ITERATIONS, grace_period=1, reduction_factor=2),
            num_samples=40,
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(storage_path=str(tmp_path), verbose=0),
    )
    results = tuner.fit()
    assert len(results) == 40 and not results.errors
    told = searcher._proposals
    assert told is not None and told.told == 40
    pruned = [t for t in told.known.values() if t.status == "pruned"]
    assert pruned  # ASHA stopped some trials and the strategy heard so
    finals = [score(r.config) for r in results]
    assert np.mean(finals[20:]) > RANDOM_MEAN + 0.5


def drive(searcher: RLSearcher, trials: range) -> list[dict[str, str]]:
    """Tune's calls to a searcher, serially: suggest, a result, complete (every 4th errors)."""
    configs = []
    for number in trials:
        config = searcher.suggest(f"t{number}")
        assert config is not None
        configs.append(config)
        result = {"score": score(config), "training_iteration": ITERATIONS, "done": True}
        searcher.on_trial_complete(f"t{number}", result, error=number % 4 == 3)
    return configs


def test_a_restored_searcher_suggests_what_the_saved_one_would(tmp_path) -> None:
    whole = RLSearcher("ppo", seed=1, space={**SPACE, "epochs": 3}, metric="score", mode="max")
    expected = drive(whole, range(30))
    assert all(config["epochs"] == 3 for config in expected)  # constants pass through
    first = RLSearcher("ppo", seed=1, space={**SPACE, "epochs": 3}, metric="score", mode="max")
    drive(first, range(12))
    first.save(str(tmp_path / "searcher.pkl"))
    restored = RLSearcher("ppo", seed=1)
    restored.restore(str(tmp_path / "searcher.pkl"))
    assert drive(restored, range(12, 30)) == expected[12:]


def test_other_domains_and_missing_settings_are_refused() -> None:
    with pytest.raises(UserError, match="'lr' is a Float"):
        RLSearcher("ppo", space={"op": tune.choice(["a", "b"]), "lr": tune.loguniform(1e-4, 1)})
    with pytest.raises(UserError, match="needs metric="):
        RLSearcher("random", space=SPACE).suggest("t0")
    with pytest.raises(UserError, match="no option 'speed'"):
        RLSearcher("ppo", speed=2)
