"""The ``rlnas`` command line: a thin layer over the Python API, with progress and tables.

Every error a user can cause is printed as one line and exits with status 2; nothing is stored
until the whole input has been checked.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rlnas.compare import Run, write_outputs
from rlnas.compare import compare as run_compare
from rlnas.errors import UserError
from rlnas.estimators.tabular import BENCHMARK_NAMES
from rlnas.report import export_trajectories, make_logger, write_report
from rlnas.search import search as run_search
from rlnas.store import Store, StoredTrial
from rlnas.strategies import STRATEGIES, make_strategy
from rlnas.trial import Trial

app = typer.Typer(
    help="Neural architecture search with reinforcement learning.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)
stdout = Console()

StoreOption = Annotated[Path, typer.Option(help="SQLite experiment store.")]
NameOption = Annotated[str | None, typer.Option(help="Experiment name (default: the latest).")]
WorkersOption = Annotated[
    int | None, typer.Option(help="Architectures evaluated at once (default 1).")
]
ExecutorOption = Annotated[
    str | None,
    typer.Option(help="serial, process or ray (default: serial for 1 worker, else process)."),
]
AddressOption = Annotated[
    str | None, typer.Option(help="Ray cluster to join: auto or HOST:PORT (--executor ray).")
]
TimeoutOption = Annotated[
    float | None, typer.Option(help="Fail a trial that runs longer than this many seconds.")
]


class SearchConfig(BaseModel):
    """The settings of ``rlnas search``; a ``--config`` TOML file holds the same keys."""

    model_config = ConfigDict(extra="forbid")

    benchmark: str | None = None
    """A tabular benchmark (default nbg:cora when no task is given either)."""
    task: str | None = None
    """A data set to train on: a built-in task, csv:PATH or npz:PATH."""
    space: str | None = None
    """The model-building space for the task (default: the one that suits its input shape)."""
    target: str | None = None
    epochs: int = Field(10, ge=1)
    data_fraction: float = Field(1.0, gt=0, le=1)
    constraints: list[str] = Field(default_factory=list)
    strategy: str = "evolution"
    mode: Literal["one-shot", "progressive"] = "one-shot"
    """progressive: each episode grows a network step by step, every step evaluated."""
    budget: int = Field(200, ge=1)
    seed: int = 0
    metric: str | None = None
    direction: Literal["maximize", "minimize"] | None = None
    name: str | None = None
    store: Path = Path("runs.db")
    strategy_options: dict[str, Any] = Field(default_factory=dict)
    workers: int = Field(1, ge=1)
    executor: Literal["serial", "process", "ray"] | None = None
    address: str | None = None
    """A Ray cluster to join (``auto`` or HOST:PORT); without it the ray executor starts one."""
    trial_timeout: float | None = Field(None, gt=0)
    estimator: Literal["full", "weight-sharing", "supernet", "predictor"] = "full"
    """How a task's children are scored (see ``rlnas.estimators.registry``)."""
    top_k: int = Field(5, ge=1)
    """With the predictor: children truly evaluated of every 10 x top_k proposals."""
    supernet_path: Path | None = None
    supernet_steps: int = Field(1000, ge=1)


def load_config(path: Path | None, overrides: dict[str, Any]) -> SearchConfig:
    """Settings from the TOML file (if any), overridden by the options given on the command line."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise UserError(f"config file {path} does not exist") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise UserError(f"config file {path} is not valid TOML: {error}") from None
    values.update({key: value for key, value in overrides.items() if value is not None})
    try:
        return SearchConfig(**values)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(map(str, first["loc"])) or "config"
        raise UserError(f"invalid setting {where!r}: {first['msg']}") from None


@app.command()
def search(
    benchmark: Annotated[str | None, typer.Option(help="Tabular benchmark, e.g. nbg:cora.")] = None,
    task: Annotated[
        str | None, typer.Option(help="Data set: digits, mnist, ..., csv:PATH or npz:PATH.")
    ] = None,
    space: Annotated[
        str | None, typer.Option(help="Model space for --task: chain-cnn, cell-cnn, conv1d, mlp.")
    ] = None,
    target: Annotated[str | None, typer.Option(help="Target column of a csv: task.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Training epochs per architecture.")] = None,
    data_fraction: Annotated[
        float | None, typer.Option(help="Fraction of the training rows to train on.")
    ] = None,
    constraint: Annotated[
        list[str] | None,
        typer.Option(help="Cost limit, e.g. params<=20000 or flops<=1e6:soft (repeatable)."),
    ] = None,
    strategy: Annotated[str | None, typer.Option(help="Search strategy (see rlnas list).")] = None,
    mode: Annotated[
        str | None,
        typer.Option(help="one-shot (default), or progressive: grow networks step by step."),
    ] = None,
    budget: Annotated[int | None, typer.Option(help="Distinct architectures to evaluate.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed: same seed, same result.")] = None,
    metric: Annotated[str | None, typer.Option(help="Metric to optimize.")] = None,
    store: Annotated[Path | None, typer.Option(help="SQLite store (default runs.db).")] = None,
    name: Annotated[str | None, typer.Option(help="Experiment name (default: generated).")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML file with these settings.")] = None,
    log: Annotated[
        str | None, typer.Option(help="Also log every trial to tensorboard or mlflow.")
    ] = None,
    workers: WorkersOption = None,
    executor: ExecutorOption = None,
    address: AddressOption = None,
    trial_timeout: TimeoutOption = None,
    estimator: Annotated[
        str | None,
        typer.Option(help="How to score a child: full, weight-sharing, supernet or predictor."),
    ] = None,
    top_k: Annotated[
        int | None, typer.Option(help="Predictor: evaluate the best K of every 10 K proposals.")
    ] = None,
    supernet_path: Annotated[
        Path | None,
        typer.Option(help="Supernet file: loaded if it exists, else trained and saved."),
    ] = None,
    supernet_steps: Annotated[
        int | None, typer.Option(help="Supernet training steps (one minibatch each).")
    ] = None,
) -> None:
    """Search a benchmark or a task's model space for its best architecture; store every trial."""
    overrides = {
        "benchmark": benchmark,
        "task": task,
        "space": space,
        "target": target,
        "epochs": epochs,
        "data_fraction": data_fraction,
        "constraints": constraint or None,
        "strategy": strategy,
        "mode": mode,
        "budget": budget,
        "seed": seed,
        "metric": metric,
        "store": store,
        "name": name,
        "workers": workers,
        "executor": executor,
        "address": address,
        "trial_timeout": trial_timeout,
        "estimator": estimator,
        "top_k": top_k,
        "supernet_path": supernet_path,
        "supernet_steps": supernet_steps,
    }
    settings = load_config(config, overrides)
    _search_and_show(settings, log)


@app.command()
def resume(
    store: StoreOption = Path("runs.db"),
    name: NameOption = None,
    workers: WorkersOption = None,
    executor: ExecutorOption = None,
    address: AddressOption = None,
    trial_timeout: TimeoutOption = None,
    log: Annotated[
        str | None, typer.Option(help="Also log every trial to tensorboard or mlflow.")
    ] = None,
) -> None:
    """Continue an interrupted search from its last stored trial, with the same settings."""
    if not store.is_file():
        raise UserError(f"store {store} does not exist")
    with Store(store) as opened:
        experiment = opened.experiment(name)
    stored = experiment.config.get("settings")
    if stored is None:
        raise UserError(
            f"experiment {experiment.name!r} was not started by `rlnas search`; resume it from "
            "Python with rlnas.search(..., name=..., resume=True)"
        )
    execution = {
        "workers": workers,
        "executor": executor,
        "address": address,
        "trial_timeout": trial_timeout,
    }
    overrides = {"store": store, "name": experiment.name}
    overrides |= {key: value for key, value in execution.items() if value is not None}
    settings = SearchConfig(**{**stored, **overrides})
    _search_and_show(settings, log, resume=True)


def _search_and_show(settings: SearchConfig, log: str | None, resume: bool = False) -> None:
    """Run (or continue) the search that ``settings`` describe, with progress; print the best."""
    search_space, evaluate, objective, context = _search_setup(settings)
    progressive = {"mode": settings.mode} if settings.mode != "one-shot" else {}
    strategy_ = make_strategy(
        settings.strategy,
        search_space,
        seed=settings.seed,
        options={**settings.strategy_options, **progressive},
    )
    if settings.estimator == "predictor":
        from rlnas.strategies.screening import Screened

        if settings.mode != "one-shot":
            raise UserError("--estimator predictor screens whole architectures: one-shot mode only")
        strategy_ = Screened(strategy_, pool=10 * settings.top_k, top_k=settings.top_k)
    title = f"{settings.strategy} on {context.get('task') or context.get('benchmark')}"
    logs = settings.store.with_suffix(".logs")
    context["settings"] = settings.model_dump(mode="json", exclude={"store", "name"})
    with (
        _progress(title, settings.budget) as progress,
        make_logger(log, logs, experiment=settings.name or title, then=progress) as on_trial,
    ):
        result = run_search(
            search_space,
            evaluate,
            strategy=strategy_,
            metric=objective,
            budget=settings.budget,
            seed=settings.seed,
            store=settings.store,
            name=settings.name,
            strategy_options=settings.strategy_options,
            config=context,
            on_trial=on_trial,
            workers=settings.workers,
            executor=settings.executor,
            executor_options=_ray_options(settings),
            trial_timeout=settings.trial_timeout,
            resume=resume,
        )
    if result.best is None:
        raise UserError("every trial failed; see `rlnas show` for the reasons")
    best = result.best
    stdout.print(f"best of {len(result.trials)} trials (experiment {result.experiment}):")
    table = Table()
    table.add_column("decision")
    table.add_column("option")
    for decision, option in best.architecture.choices.items():
        table.add_row(decision, str(option))
    stdout.print(table)
    stdout.print(", ".join(f"{k} = {v:.6g}" for k, v in best.metrics.items()))
    stdout.print(f"stored in {settings.store}")


def _ray_options(settings: SearchConfig) -> dict[str, Any]:
    """Where the ray executor runs: a given cluster, or a local one with files beside the store."""
    if settings.executor != "ray":
        if settings.address is not None:
            raise UserError("--address applies to --executor ray only")
        return {}
    if settings.address is not None:
        return {"address": settings.address}
    return {"temp_dir": settings.store.with_suffix(".ray")}


def _search_setup(settings: SearchConfig) -> tuple[Any, Any, Any, dict[str, Any]]:
    """The space, evaluator, objective and stored context of a benchmark or a task search."""
    from rlnas.problems import load_problem
    from rlnas.rewards import Constraint

    if settings.task is not None and settings.benchmark is not None:
        raise UserError("--task and --benchmark are exclusive: search a data set or a table")
    problem = load_problem(
        settings.task or settings.benchmark or "nbg:cora",
        benchmark=settings.task is None,
        space=settings.space,
        target=settings.target,
        epochs=settings.epochs,
        data_fraction=settings.data_fraction,
        seed=settings.seed,
        constraints=[Constraint.parse(text) for text in settings.constraints],
        metric=settings.metric,
        direction=settings.direction,
    )
    context = dict(problem.context)
    if settings.task is None:
        if settings.estimator not in ("full", "predictor"):
            raise UserError(f"--estimator {settings.estimator} trains networks: it needs a --task")
        context["estimator"] = settings.estimator
        return problem.space, problem.evaluate, problem.objective, context
    evaluate = _estimator(settings, problem.evaluate, context)
    return problem.space, evaluate, problem.objective, context


def _estimator(settings: SearchConfig, training: Any, context: dict[str, Any]) -> Any:
    """The evaluator of ``--estimator``, recorded in ``context``; a supernet is ready before."""
    from rlnas.estimators import make_estimator

    evaluate = make_estimator(
        settings.estimator, training, settings.supernet_path, settings.supernet_steps
    )
    context["estimator"] = settings.estimator
    if settings.estimator == "predictor":
        context["top_k"] = settings.top_k
    if settings.estimator == "supernet":
        context["supernet_steps"] = settings.supernet_steps
        context["supernet_path"] = (
            None if settings.supernet_path is None else str(settings.supernet_path)
        )
        with console.status("training the supernet (or loading it)"):
            started = time.perf_counter()
            evaluate.fit()
        context["supernet_fit_s"] = time.perf_counter() - started
    return evaluate


@app.command()
def show(
    store: StoreOption = Path("runs.db"),
    name: NameOption = None,
    top: Annotated[int | None, typer.Option(help="Show only the K best trials.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print trials as JSON.")] = False,
) -> None:
    """Show an experiment's trials, best first."""
    if not store.is_file():
        raise UserError(f"store {store} does not exist")
    with Store(store) as opened:
        experiment = opened.experiment(name)
        trials = sorted(opened.trials(experiment), key=_best_first)
    direction = experiment.config.get("direction", "maximize")
    if top is not None:
        trials = trials[:top]
    if as_json:
        sys.stdout.write(json.dumps([trial.to_dict() for trial in trials], indent=1) + "\n")
        return
    table = Table(title=f"{experiment.name} ({experiment.status}, {direction})")
    for column in ("#", "status", "architecture", "metrics"):
        table.add_column(column)
    for trial in trials:
        metrics = trial.error or ", ".join(f"{k}={v:.4g}" for k, v in trial.metrics.items())
        architecture = " ".join(f"{k}={v}" for k, v in trial.architecture.items())
        table.add_row(str(trial.number), trial.status, architecture, metrics)
    stdout.print(table)


@app.command(name="list")
def list_names() -> None:
    """List the strategies, benchmarks, tasks and model spaces rlnas knows."""
    from rlnas.space.models import MODEL_SPACES
    from rlnas.tasks import TASKS

    stdout.print("strategies: " + ", ".join(STRATEGIES))
    stdout.print("benchmarks: " + ", ".join(BENCHMARK_NAMES))
    stdout.print("tasks: " + ", ".join(TASKS) + ", csv:PATH, npz:PATH")
    stdout.print("spaces: " + ", ".join(MODEL_SPACES))


@app.command(name="train-final")
def train_final(
    epochs: Annotated[int, typer.Option(min=1, help="Epochs of the final training.")],
    out: Annotated[Path, typer.Option(help="Folder for the exported model and metrics.json.")],
    store: StoreOption = Path("runs.db"),
    name: NameOption = None,
    trial: Annotated[int | None, typer.Option(help="Trial number (default: the best).")] = None,
) -> None:
    """Retrain an experiment's best trial on train + validation rows, test it and export it."""
    # Imported here so that torch loads only for this command.
    from rlnas.export import train_final as run_train_final

    with console.status(f"training for {epochs} epochs and exporting to {out}"):
        final = run_train_final(store, name=name, trial=trial, epochs=epochs, out_dir=out)
    stdout.print(f"trial {final.trial} of {final.experiment}, retrained for {epochs} epochs")
    stdout.print("test: " + ", ".join(f"{k} = {v:.6g}" for k, v in final.test_metrics.items()))
    for path in final.files:
        stdout.print(str(path), markup=False, highlight=False, soft_wrap=True)


NamesOption = Annotated[
    list[str] | None,
    typer.Option("--name", help="Experiment to include; repeat it (default: all)."),
]


@app.command()
def report(
    store: StoreOption = Path("runs.db"),
    name: NamesOption = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")] = Path(
        "report.html"
    ),
) -> None:
    """Write a self-contained HTML report (interactive plots) on stored experiments."""
    path = write_report(store, output, names=name or ())
    stdout.print(f"report written to {path}", markup=False, highlight=False, soft_wrap=True)


@app.command(name="export-trajectories")
def export_trajectories_command(
    store: StoreOption = Path("runs.db"),
    name: NamesOption = None,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="A .csv or .parquet file to write.")
    ] = Path("trajectories.csv"),
) -> None:
    """Export every trial as RL steps (state, action, reward, costs), one row per decision."""
    rows = export_trajectories(store, output, names=name or ())
    stdout.print(f"{rows} steps written to {output}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def compare(
    out: Annotated[Path, typer.Option(help="Folder for summary.csv, curves.csv, curves.html.")],
    benchmark: Annotated[str, typer.Option(help="Tabular benchmark, e.g. nbg:cora.")] = "nbg:cora",
    strategies: Annotated[
        str, typer.Option(help="Comma-separated strategies (default: all registered).")
    ] = ",".join(STRATEGIES),
    seeds: Annotated[int, typer.Option(min=1, help="Seeds 0..N-1 for every strategy.")] = 20,
    budget: Annotated[int, typer.Option(min=1, help="Distinct architectures per run.")] = 100,
    workers: Annotated[int, typer.Option(min=1, help="Processes running searches at once.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON summary.")] = False,
) -> None:
    """Compare strategies over many seeds on a tabular benchmark: regrets, speed, anytime curves."""
    names = [name.strip() for name in strategies.split(",") if name.strip()]
    bar = Progress(
        TextColumn(f"comparing on {benchmark}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    task = bar.add_task("runs", total=None)

    def on_run(run: Run, done: int, total: int) -> None:
        # started at the first finished run, so that a bad argument prints only its error line
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        result = run_compare(benchmark, names, seeds, budget, workers=workers, on_run=on_run)
    finally:
        if bar.live.is_started:
            bar.stop()
    files = write_outputs(result, out)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=1) + "\n")
        return
    table = Table(title=f"{result.benchmark}: {seeds} seeds, {budget} distinct queries each")
    table.add_column("strategy")
    table.add_column("validation regret", justify="right")
    table.add_column("test regret", justify="right")
    table.add_column("queries to top 1 % (median)", justify="right")
    for name, summary in result.results.items():
        table.add_row(
            name,
            f"{summary.regret_mean:.4f} ± {summary.regret_std:.4f}",
            f"{summary.test_regret_mean:.4f} ± {summary.test_regret_std:.4f}",
            f"{summary.queries_to_top1pct:g}",
        )
    stdout.print(table)
    stdout.print(f"never reaching the top 1 % counts as {budget + 1} queries")
    for path in files:
        stdout.print(str(path), markup=False, highlight=False, soft_wrap=True)


def _best_first(trial: StoredTrial) -> tuple[int, float, int]:
    return (trial.reward is None, -(trial.reward or 0.0), trial.number)


class _progress:
    """A rich progress bar fed by the search loop's per-trial callback."""

    def __init__(self, title: str, total: int) -> None:
        self.bar = Progress(
            TextColumn(title),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("best {task.fields[best]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task = self.bar.add_task(title, total=total, best="-")
        self.best: float | None = None

    def __enter__(self):
        return self.update  # the bar starts at the first trial, once all input has been checked

    def __exit__(self, *exc: object) -> None:
        if self.bar.live.is_started:
            self.bar.stop()

    def update(self, trial: Trial, done: int, budget: int) -> None:
        self.bar.start()  # no-op once started
        if trial.reward is not None and (self.best is None or trial.reward > self.best):
            self.best = trial.reward
        best = "-" if self.best is None else f"{self.best:.4g}"
        self.bar.update(self.task, completed=done, total=budget, best=best)


def main() -> None:
    """Entry point: run the app and turn user errors into one line and exit status 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except UserError as error:
        console.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
