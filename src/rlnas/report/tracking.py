"""Log trials as a search runs to TensorBoard or MLflow, when the user has installed one.

``make_logger`` returns a callback with the signature of ``rlnas.search``'s ``on_trial``; it
logs each trial's reward, the incumbent and every metric, stepped by the trial number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from rlnas.errors import UserError
from rlnas.trial import Trial

ProgressCallback = Callable[[Trial, int, int], None]

BACKENDS = ("tensorboard", "mlflow")


class TrialLogger:
    """A logging callback: call it with (trial, trials done, budget); close it after.

    This base class logs nothing (``make_logger(None, ...)``); ``then`` is another ``on_trial``
    callback, such as a progress bar, called after each trial is logged.
    """

    def __init__(self, then: ProgressCallback | None = None) -> None:
        self.best: float | None = None
        self.then = then

    def __call__(self, trial: Trial, done: int, budget: int) -> None:
        self._log_trial(trial)
        if self.then is not None:
            self.then(trial, done, budget)

    def _log_trial(self, trial: Trial) -> None:
        values = {f"metrics/{name}": float(value) for name, value in trial.metrics.items()}
        if trial.reward is not None:
            self.best = trial.reward if self.best is None else max(self.best, trial.reward)
            values["reward"] = trial.reward
        if self.best is not None:
            values["best_reward"] = self.best
        values["failed"] = float(trial.failed)
        self.log(values, step=trial.number)

    def log(self, values: Mapping[str, float], step: int) -> None:
        """Send ``values`` to the backend at ``step``."""

    def close(self) -> None:
        """Flush and release what the backend holds."""

    def __enter__(self) -> TrialLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TensorBoardLogger(TrialLogger):
    """Scalars in an event file under ``run_dir`` (view with ``tensorboard --logdir``)."""

    def __init__(self, run_dir: Path, then: ProgressCallback | None = None) -> None:
        super().__init__(then)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise UserError(
                "logging to TensorBoard needs the tensorboard package: pip install tensorboard"
            ) from None
        self.writer = SummaryWriter(log_dir=str(run_dir))

    def log(self, values: Mapping[str, float], step: int) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, value, global_step=step)
        self.writer.flush()  # a live dashboard should see each trial as it ends

    def close(self) -> None:
        self.writer.close()


class MlflowLogger(TrialLogger):
    """One MLflow run in the SQLite database ``run_dir/mlflow.db``.

    MLflow 3 refuses new file stores, so the run lives in SQLite; view it with
    ``mlflow ui --backend-store-uri sqlite:///RUN_DIR/mlflow.db``.
    """

    def __init__(
        self, run_dir: Path, experiment: str, then: ProgressCallback | None = None
    ) -> None:
        super().__init__(then)
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise UserError(
                "logging to MLflow needs the mlflow package: pip install mlflow"
            ) from None
        run_dir.mkdir(parents=True, exist_ok=True)
        self.client = MlflowClient(tracking_uri=f"sqlite:///{(run_dir / 'mlflow.db').resolve()}")
        found = self.client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found else self.client.create_experiment(experiment)
        self.run_id = self.client.create_run(experiment_id, run_name=experiment).info.run_id

    def log(self, values: Mapping[str, float], step: int) -> None:
        for name, value in values.items():
            self.client.log_metric(self.run_id, name, value, step=step)

    def close(self) -> None:
        self.client.set_terminated(self.run_id)


def make_logger(
    backend: str | None,
    run_dir: str | Path,
    experiment: str = "rlnas",
    then: ProgressCallback | None = None,
) -> TrialLogger:
    """A per-trial logging callback for ``backend`` ('tensorboard', 'mlflow', or None: no logging).

    Logs go to ``run_dir``; ``experiment`` names the MLflow run; ``then`` is called after each
    trial is logged (chain a progress bar through it).
    """
    if backend is None:
        return TrialLogger(then)
    if backend not in BACKENDS:
        raise UserError(f"unknown logger {backend!r}; choose one of {', '.join(BACKENDS)}")
    # each backend creates run_dir only once its package imports: bad input leaves no folder
    run_dir = Path(run_dir)
    if backend == "tensorboard":
        return TensorBoardLogger(run_dir, then)
    return MlflowLogger(run_dir, experiment, then)
