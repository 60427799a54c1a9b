"""Scheduled searches on candidates with known learning curves: who stops where, and what trains.

``Curves`` (evaluators.py) gives each candidate the curve ``quality * (1 - 0.5**epoch)``, so its
rank is the same at every rung, and counts the epochs each candidate really trained.
"""

from __future__ import annotations

import pytest
from evaluators import Curves, quality, score, toy_space

import rlnas
from rlnas.trial import Status

RUNGS = (1, 3, 9)


class InOrder(rlnas.Strategy):
    """Proposes the options of decision ``q`` in the order given; records every tell."""

    name = "in-order"

    def __init__(self, space: rlnas.SearchSpace, order: list[float]) -> None:
        super().__init__(space)
        self.order = list(order)
        self.told: list[rlnas.Trial] = []

    def ask(self, n: int = 1) -> list[rlnas.Architecture]:
        return [self.space.architecture({"q": self.order.pop(0)}) for _ in range(n)]

    def tell(self, architecture: rlnas.Architecture, trial: rlnas.Trial) -> None:
        self.told.append(trial)


def in_order(order: list[float], scheduler: str, **options) -> tuple[rlnas.SearchResult, InOrder]:
    space = rlnas.SearchSpace([rlnas.Choice("q", sorted(set(order)))], name="qualities")
    strategy = InOrder(space, order)
    result = rlnas.search(
        space,
        Curves(),
        strategy,
        budget=len(order),
        scheduler=rlnas.make_scheduler(scheduler, 9, **options),
    )
    return result, strategy


def fates(result: rlnas.SearchResult) -> list[tuple[float, str, int]]:
    """(quality, status, epochs reached) of each candidate, in the order they were started."""
    trials = sorted(result.trials, key=lambda t: t.started_at)
    return [(quality(t.architecture), str(t.status), len(t.curve)) for t in trials]


def test_asha_stops_each_candidate_outside_the_top_third_of_its_rung() -> None:
    # rung 1 epoch: 0.3 is third of three, 0.1 sixth of six (only the best two of six go on);
    # rung 3 epochs: 0.8 is second of three (one goes on), 0.95 first of four
    result, _ = in_order([0.5, 0.9, 0.3, 0.8, 0.95, 0.1], "asha")
    assert fates(result) == [
        (0.5, "complete", 9),
        (0.9, "complete", 9),
        (0.3, "pruned", 1),
        (0.8, "pruned", 3),
        (0.95, "complete", 9),
        (0.1, "pruned", 1),
    ]
    assert {t.architecture.key: t.rung for t in result.trials} == {
        t.architecture.key: RUNGS.index(len(t.curve)) for t in result.trials
    }
    assert result.best.architecture.choices["q"] == 0.95


def test_promotion_continues_training_rather_than_restarting_it() -> None:
    result, _ = in_order([0.5, 0.9, 0.3, 0.8, 0.95, 0.1], "asha")
    trained = [t.metrics["trained"] for t in result.trials]
    assert trained == [len(t.curve) for t in result.trials]
    assert sum(trained) == 9 + 9 + 1 + 3 + 9 + 1  # restarting would train 1 + 3 + 9 for each
    assert result.trials[0].curve == pytest.approx([0.5 * (1 - 0.5**e) for e in range(1, 10)])


def test_every_candidate_is_told_once_pruned_ones_with_a_reward_on_the_last_rungs_scale() -> None:
    result, strategy = in_order([0.5, 0.9, 0.3, 0.8, 0.95, 0.1], "asha")
    assert [t.architecture for t in strategy.told] == [t.architecture for t in result.trials]
    for number, trial in enumerate(strategy.told):
        if trial.status is Status.PRUNED:
            # plus the mean gain to the last rung of the complete candidates told before it
            at = len(trial.curve) - 1
            done = [t.curve for t in strategy.told[:number] if t.status is Status.COMPLETE]
            gain = sum(curve[-1] - curve[at] for curve in done) / len(done)
            assert trial.reward == pytest.approx(trial.curve[-1] + gain), trial.architecture
        else:
            assert trial.reward == trial.metrics["accuracy"]


def test_the_median_rule_stops_below_the_median_of_earlier_candidates_after_five() -> None:
    result, _ = in_order([0.5, 0.6, 0.4, 0.45, 0.2, 0.3, 0.95], "median")
    assert fates(result) == [
        (0.5, "complete", 9),
        (0.6, "complete", 9),
        (0.4, "complete", 9),
        (0.45, "complete", 9),
        (0.2, "complete", 9),  # five earlier candidates needed before the median stops anyone
        (0.3, "pruned", 1),  # below the median 0.45 of the five before it
        (0.95, "complete", 9),
    ]


def test_hyperband_fills_its_brackets_in_proportion_and_compares_within_a_bracket() -> None:
    scheduler = rlnas.make_scheduler("hyperband", 9)
    first = [scheduler.start(f"c{i}") for i in range(17)]
    assert {epochs: first.count(epochs) for epochs in RUNGS} == {1: 9, 3: 5, 9: 3}
    assert first[:3] == [1, 3, 9]  # the brackets fill together
    result = rlnas.search(
        toy_space(), Curves(), "random", budget=34, scheduler=rlnas.make_scheduler("hyperband", 9)
    )
    started = [len(t.curve) for t in result.trials]
    assert started.count(9) >= 6  # the bracket that starts at 9 epochs never prunes
    assert 0 < sum(t.pruned for t in result.trials) < 34


def test_worker_processes_carry_each_candidates_state_there_and_back() -> None:
    result = rlnas.search(
        toy_space(),
        Curves(delay=0.005),
        "ppo",
        budget=16,
        workers=2,
        executor="process",
        scheduler=rlnas.make_scheduler("asha", 9),
    )
    assert len(result.trials) == 16
    assert not any(t.failed for t in result.trials), [t.error for t in result.trials]
    for trial in result.trials:
        assert trial.metrics["trained"] == trial.metrics["epochs"] == len(trial.curve)
    assert {str(t.status) for t in result.trials} == {"complete", "pruned"}


def test_a_time_budget_stops_cleanly_and_the_search_resumes_exactly(tmp_path, loop_clock) -> None:
    def search(store=None, time_budget=None, resume=False):
        return rlnas.search(
            toy_space(),
            Curves(delay=0.01),
            "ppo",
            budget=12,
            seed=0,
            store=store,
            name="timed",
            scheduler=rlnas.make_scheduler("asha", 9),
            time_budget=time_budget,
            resume=resume,
        )

    whole = search()
    store = tmp_path / "runs.db"
    stopped = search(store, time_budget=1.8 / 60)  # 1.8 s of loop_clock: a few waits
    assert stopped.stopped_early is not None and "time budget" in stopped.stopped_early
    assert 0 < len(stopped.trials) < 12
    with rlnas.Store(store) as opened:
        assert opened.experiment("timed").status == "interrupted"
    resumed = search(store, resume=True)
    outcome = [(t.architecture, t.reward, t.status, t.curve) for t in whole.trials]
    assert [(t.architecture, t.reward, t.status, t.curve) for t in resumed.trials] == outcome
    with rlnas.Store(store) as opened:
        assert opened.experiment("timed").status == "complete"
        assert [t.curve for t in opened.trials(opened.experiment("timed"))] == [
            t.curve for t in whole.trials
        ]


def test_an_epoch_budget_counts_what_was_trained_and_lets_asha_start_more_candidates() -> None:
    def search(scheduler):
        return rlnas.search(
            toy_space(), Curves(), "random", budget=200, epoch_budget=90, scheduler=scheduler
        )

    unscheduled = search(None)
    assert len(unscheduled.trials) == 10
    assert "epoch budget" in unscheduled.stopped_early
    scheduled = search(rlnas.make_scheduler("asha", 9))
    spent = sum(t.metrics["trained"] for t in scheduled.trials)
    assert 90 <= spent < 90 + 9
    assert len(scheduled.trials) >= 2 * len(unscheduled.trials)


@pytest.mark.parametrize(
    ("evaluate", "message"),
    [(score, "needs an evaluator that trains by epochs"), (Curves(epochs=5), "end at 9 epochs")],
)
def test_a_scheduler_that_cannot_work_is_refused_before_anything_is_stored(
    evaluate, message, tmp_path
) -> None:
    with pytest.raises(rlnas.UserError, match=message):
        rlnas.search(
            toy_space(), evaluate, scheduler=rlnas.make_scheduler("asha", 9), store=tmp_path / "r"
        )
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_ray_actors_carry_each_candidates_state_there_and_back(tmp_path) -> None:
    pytest.importorskip("ray")
    result = rlnas.search(
        toy_space(),
        Curves(),
        "random",
        budget=10,
        workers=2,
        executor="ray",
        executor_options={"temp_dir": tmp_path / "runs.ray"},
        scheduler=rlnas.make_scheduler("asha", 9),
    )
    assert not any(t.failed for t in result.trials), [t.error for t in result.trials]
    for trial in result.trials:
        assert trial.metrics["trained"] == trial.metrics["epochs"] == len(trial.curve)
    assert any(t.pruned for t in result.trials) and any(len(t.curve) == 9 for t in result.trials)
