"""The ``rlnas`` command line: a thin layer over the Python API, with progress and tables.

Every error a user can cause is printed as one line and exits with status 2; nothing is stored
until the whole input has been checked.
"""

from __future__ import annotations

import json
import logging
import sys
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rlnas.errors import UserError
from rlnas.estimators.tabular import BENCHMARK_NAMES, load_benchmark
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


class SearchConfig(BaseModel):
    """The settings of ``rlnas search``; a ``--config`` TOML file holds the same keys."""

    model_config = ConfigDict(extra="forbid")

    benchmark: str = "nbg:cora"
    strategy: str = "evolution"
    budget: int = Field(200, ge=1)
    seed: int = 0
    metric: str | None = None
    direction: Literal["maximize", "minimize"] = "maximize"
    name: str | None = None
    store: Path = Path("runs.db")
    strategy_options: dict[str, Any] = Field(default_factory=dict)


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
    strategy: Annotated[str | None, typer.Option(help="Search strategy (see rlnas list).")] = None,
    budget: Annotated[int | None, typer.Option(help="Distinct architectures to evaluate.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed: same seed, same result.")] = None,
    metric: Annotated[str | None, typer.Option(help="Metric to optimize.")] = None,
    store: Annotated[Path | None, typer.Option(help="SQLite store (default runs.db).")] = None,
    name: Annotated[str | None, typer.Option(help="Experiment name (default: generated).")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML file with these settings.")] = None,
) -> None:
    """Search a benchmark for its best architecture and store every trial."""
    overrides = {
        "benchmark": benchmark,
        "strategy": strategy,
        "budget": budget,
        "seed": seed,
        "metric": metric,
        "store": store,
        "name": name,
    }
    settings = load_config(config, overrides)
    bench = load_benchmark(settings.benchmark)
    metric_name = settings.metric or bench.metric
    strategy_ = make_strategy(
        settings.strategy, bench.space, seed=settings.seed, options=settings.strategy_options
    )
    with _progress(f"{settings.strategy} on {settings.benchmark}", settings.budget) as on_trial:
        result = run_search(
            bench.space,
            bench.evaluate,
            strategy=strategy_,
            metric=metric_name,
            budget=settings.budget,
            seed=settings.seed,
            store=settings.store,
            direction=settings.direction,
            name=settings.name,
            strategy_options=settings.strategy_options,
            config={"benchmark": settings.benchmark},
            on_trial=on_trial,
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
    """List the strategies, search spaces and benchmarks rlnas knows."""
    stdout.print("strategies: " + ", ".join(STRATEGIES))
    stdout.print("benchmarks: " + ", ".join(BENCHMARK_NAMES))


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
        self.bar.start()
        return self.update

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def update(self, trial: Trial, done: int, budget: int) -> None:
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
