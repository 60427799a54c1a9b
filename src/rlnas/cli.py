"""The ``rlnas`` command line: a thin layer over the Python API, with progress and tables.

Every error a user can cause is printed as one line and exits with status 2; nothing is stored
until the whole input has been checked.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import sys
import tomllib
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import NoneType
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from rlnas.config import SearchConfig
from rlnas.devices import DeviceSettings
from rlnas.errors import UserError
from rlnas.estimators.tabular import BENCHMARK_NAMES
from rlnas.report.growth import chain_text, growth_chains, inherited
from rlnas.runner import RESUMABLE, run
from rlnas.runner import resume as resume_search
from rlnas.search import SearchResult
from rlnas.store import Store
from rlnas.strategies import STRATEGIES, strategy_option_rows
from rlnas.trial import Trial, best_first, best_trial

if typing.TYPE_CHECKING:
    from rlnas.compare import Run

try:  # typer parses with its own copy of click from 0.2x on
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as click_errors

app = typer.Typer(
    help="Neural architecture search with reinforcement learning.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True, emoji=False)  # user text such as ":family" stays as written
stdout = Console(emoji=False)

StoreOption = Annotated[Path, typer.Option(help="SQLite experiment store.")]
NameOption = Annotated[str | None, typer.Option(help="Experiment name (default: the latest).")]
ConfigOption = Annotated[
    Path | None, typer.Option(help="TOML file with these settings (options given here win).")
]


def settings_options(model: type[BaseModel], only: Iterable[str] | None = None):
    """A decorator that gives a command one option per field of ``model`` (or of ``only``).

    Each option is spelled like its field (``--trial-timeout`` for ``trial_timeout``), shows the
    field's help and default, and is None unless given, so that a TOML file or a stored
    experiment fills what the command line leaves out. A list field is a repeatable option, a
    dict field a repeatable ``KEY=VALUE``.
    """
    names = list(model.model_fields if only is None else only)

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = [
            parameter
            for parameter in inspect.signature(command, eval_str=True).parameters.values()
            if parameter.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        generated = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=_option(name, model.model_fields[name]),
            )
            for name in names
        ]

        @functools.wraps(command)
        def wrapper(**values: Any) -> None:
            command(**values)

        wrapper.__signature__ = inspect.Signature([*own, *generated])  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _option(name: str, field: FieldInfo) -> Any:
    kind = _plain_type(field.annotation)
    metavar = None
    if kind is dict:
        kind, metavar = list[str], "KEY=VALUE"
    elif typing.get_origin(kind) is typing.Literal:
        # the settings check the choice, so that a wrong one is the same error from TOML
        kind, metavar = str, "|".join(map(str, typing.get_args(kind)))
    elif isinstance(field.json_schema_extra, dict) and "choices" in field.json_schema_extra:
        metavar = "|".join(map(str, field.json_schema_extra["choices"]))  # type: ignore[arg-type]
    default = field.get_default(call_default_factory=True)
    shown: bool | str = False if default in (None, [], {}) else str(default)
    flag = "--" + name.replace("_", "-")
    option = typer.Option(flag, help=field.description, show_default=shown, metavar=metavar)
    return Annotated[kind | None, option]


def _plain_type(annotation: Any) -> Any:
    """The annotation without None, and a dict as plain ``dict``, for typer."""
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        arguments = [kind for kind in typing.get_args(annotation) if kind is not NoneType]
        annotation = arguments[0] if len(arguments) == 1 else annotation
    if typing.get_origin(annotation) is dict:
        return dict
    return annotation


def given(values: dict[str, Any]) -> dict[str, Any]:
    """The options given on the command line, with ``KEY=VALUE`` lists turned into dicts."""
    found = {}
    for name, value in values.items():
        if value is None or value == []:
            continue
        field = SearchConfig.model_fields.get(name)
        if field is not None and _plain_type(field.annotation) is dict:
            value = dict(_key_value(text) for text in value)
        found[name] = value
    return found


def _key_value(text: str) -> tuple[str, Any]:
    """``lr=0.01`` -> ("lr", 0.01): the value as a TOML literal, else as the text itself."""
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise UserError(f"write an option as KEY=VALUE, e.g. learning_rate=0.01; got {text!r}")
    try:
        parsed = tomllib.loads(f"value = {value.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return key.strip(), parsed


@app.command()
@settings_options(SearchConfig)
def search(config: ConfigOption = None, **values: Any) -> None:
    """Search a benchmark or a task's model space for its best architecture; store every trial."""
    overrides = given(values)
    if config is not None:
        settings = SearchConfig.from_toml(config, **overrides)
    else:
        settings = SearchConfig(**overrides)
    _run_and_show(settings.store, lambda progress: run(settings, **progress))


@app.command()
@settings_options(SearchConfig, only=sorted(RESUMABLE))
def resume(store: StoreOption = Path("runs.db"), name: NameOption = None, **values: Any) -> None:
    """Continue an interrupted search from its last stored trial, with the same settings."""
    changes = given(values)
    _run_and_show(store, lambda progress: resume_search(store, name, **progress, **changes))


def _run_and_show(store: Path | None, start: Callable[[dict[str, Any]], SearchResult]) -> None:
    """Run a search with progress (stages, then a bar over trials); print the best.

    Ctrl-C stops it (the store marks the experiment interrupted) and says how to continue.
    """
    try:
        with _progress(store) as progress:
            callbacks = {
                "on_trial": progress.trial,
                "on_stage": progress.stage,
                "on_start": progress.started,
            }
            result = start(callbacks)
    except KeyboardInterrupt:
        where = f" --store {store}" if store is not None else ""
        name = progress.experiment
        again = f"rlnas resume{where}" + (f" --name {name}" if name else "")
        raise Interrupted(f"interrupted; continue the search with `{again}`") from None
    if result.best is None:
        raise UserError("every trial failed; see `rlnas show` for the reasons")
    best = result.best
    _plain(f"best of {len(result.trials)} trials (experiment {result.experiment}):")
    table = Table()
    table.add_column("decision")
    table.add_column("option")
    for decision, option in best.architecture.choices.items():
        table.add_row(Text(decision), Text(str(option)))
    stdout.print(table)
    _plain(", ".join(f"{k} = {v:.6g}" for k, v in best.metrics.items()))
    if store is not None:
        _plain(f"stored in {store}")


class Interrupted(Exception):
    """Ctrl-C during a search: printed as one line that says how to resume, exit status 130."""


def _plain(text: str, console_: Console | None = None) -> None:
    """Print a line that holds user strings literally (no rich markup, no highlighting)."""
    (console_ or stdout).print(text, markup=False, highlight=False, soft_wrap=True)


@app.command()
def show(
    store: StoreOption = Path("runs.db"),
    name: NameOption = None,
    top: Annotated[
        int | None, typer.Option(min=1, help="Show only the K best trials (K >= 1).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print trials as JSON.")] = False,
) -> None:
    """Show an experiment's trials, best first (the store is only read)."""
    with Store(store, read_only=True) as opened:
        experiment = opened.experiment(name)
        trials = sorted(opened.trials(experiment), key=best_first)
    direction = experiment.config.get("direction", "maximize")
    if top is not None:
        trials = trials[:top]
    if as_json:
        sys.stdout.write(json.dumps([trial.to_dict() for trial in trials], indent=1) + "\n")
        return
    table = Table(title=Text(f"{experiment.name} ({experiment.status}, {direction})"))
    scheduled = any(trial.rung is not None for trial in trials)  # a scheduler's rungs
    for column in ("#", "status", *(["rung"] if scheduled else []), "architecture", "metrics"):
        table.add_column(column)
    for trial in trials:
        metrics = trial.error or ", ".join(f"{k}={v:.4g}" for k, v in trial.metrics.items())
        architecture = " ".join(f"{k}={v}" for k, v in trial.architecture.items())
        rung = (
            []
            if not scheduled
            else [f"{trial.rung} ({len(trial.curve)} ep.)" if trial.curve else "-"]
        )
        table.add_row(str(trial.number), trial.status, *rung, Text(architecture), Text(metrics))
    stdout.print(table)
    if inherited(trials):
        metric = experiment.config.get("metric", "accuracy")
        chains = Table(title=Text(f"growth chains ({metric}; inherited or scratch)"))
        chains.add_column("chain")
        for chain in growth_chains(sorted(trials, key=lambda trial: trial.number)):
            chains.add_row(Text(chain_text(chain, metric)))
        stdout.print(chains)


@app.command()
def experiments(
    store: StoreOption = Path("runs.db"),
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
) -> None:
    """List a store's experiments: name, status, what was searched, trials (only reads it)."""
    with Store(store, read_only=True) as opened:
        rows = [(e, len(opened.trials(e))) for e in opened.experiments()]
    if as_json:
        listed = [
            {"name": e.name, "status": e.status, "trials": count, "seed": e.seed, **_what(e)}
            for e, count in rows
        ]
        sys.stdout.write(json.dumps(listed, indent=1) + "\n")
        return
    table = Table(title=Text(f"experiments in {store}"))
    for column in ("name", "status", "trials", "searched", "strategy", "metric"):
        table.add_column(column)
    for experiment, count in rows:
        what = _what(experiment)
        table.add_row(
            Text(experiment.name),
            experiment.status,
            str(count),
            Text(str(what["searched"])),
            Text(str(what["strategy"])),
            Text(str(what["metric"])),
        )
    stdout.print(table)


def _what(experiment: Any) -> dict[str, Any]:
    config = experiment.config
    searched = config.get("task") or config.get("benchmark") or config.get("space")
    return {
        "searched": searched,
        "strategy": config.get("strategy"),
        "metric": config.get("metric"),
        "budget": config.get("budget"),
    }


@app.command(name="list")
def list_names(
    strategy: Annotated[
        str | None,
        typer.Option(help="Show this strategy's options (--strategy-option NAME=VALUE) instead."),
    ] = None,
) -> None:
    """List the strategies, benchmarks, tasks and model spaces rlnas knows."""
    from rlnas.space.models import MODEL_SPACES
    from rlnas.tasks import FILE_PREFIXES, TASKS

    if strategy is not None:
        rows = strategy_option_rows(strategy)
        if not rows:
            _plain(f"strategy {strategy} has no options")
            return
        table = Table(title=Text(f"options of strategy {strategy} (--strategy-option NAME=VALUE)"))
        for column in ("option", "type and bounds", "default", "help"):
            table.add_column(column)
        for row in rows:
            table.add_row(*map(Text, row))
        stdout.print(table)
        return
    _plain("strategies: " + ", ".join(STRATEGIES) + " (their options: list --strategy NAME)")
    _plain("benchmarks: " + ", ".join(BENCHMARK_NAMES))
    _plain("tasks: " + ", ".join([*TASKS, *(f"{prefix}:PATH" for prefix in FILE_PREFIXES)]))
    _plain("spaces: " + ", ".join(MODEL_SPACES) + ", or your own as package.module:Name")


@app.command(name="train-final")
@settings_options(DeviceSettings)
def train_final(
    out: Annotated[Path, typer.Option(help="Folder for the exported model and metrics.json.")],
    epochs: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Epochs of the final training (default: found by early stopping on the "
            "validation rows, then trained on training + validation rows).",
        ),
    ] = None,
    store: StoreOption = Path("runs.db"),
    name: NameOption = None,
    trial: Annotated[int | None, typer.Option(help="Trial number (default: the best).")] = None,
    from_inherited: Annotated[
        bool,
        typer.Option(
            "--from-inherited",
            help="Fine-tune the weights the search trained (a search with --inherit keeps its "
            "best's) instead of training from scratch.",
        ),
    ] = False,
    **values: Any,
) -> None:
    """Retrain an experiment's best trial on train + validation rows, test it and export it."""
    # Imported here so that torch loads only for this command.
    from rlnas.export import train_final as run_train_final

    devices = DeviceSettings(**given(values))
    _refuse_a_file(out)
    with _EpochProgress() as progress:
        final = run_train_final(
            store,
            name=name,
            trial=trial,
            epochs=epochs,
            out_dir=out,
            devices=devices,
            on_epoch=progress.epoch,
            from_inherited=from_inherited,
        )
    how = "fine-tuned from its inherited weights" if from_inherited else "retrained"
    epochs_text = f"{final.epochs} epoch{'s' * (final.epochs != 1)}"
    _plain(f"trial {final.trial} of {final.experiment}, {how} for {epochs_text}")
    if epochs is None:
        found = final.epochs_chosen_by
        _plain(
            f"epochs: {found['best_epoch']}, the best validation epoch of "
            f"{found['epochs_trained']} trained on the training rows alone (early stopping)"
        )
    _plain("test: " + ", ".join(f"{k} = {v:.6g}" for k, v in final.test_metrics.items()))
    for path in final.files:
        _plain(str(path))


class _EpochProgress:
    """The final training's epochs: a bar per phase with the loss and the validation metric on a
    terminal, one line per epoch elsewhere."""

    def __init__(self) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[scores]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.phases: dict[str, Any] = {}
        self.lines = not console.is_terminal

    def __enter__(self) -> _EpochProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar.live.is_started:
            self.bar.stop()

    def epoch(self, phase: str, epoch: int, of: int, scores: Mapping[str, float]) -> None:
        shown = ", ".join(f"{key} {value:.4g}" for key, value in scores.items())
        if self.lines:
            _plain(f"{phase}: epoch {epoch}/{of}, {shown}", console)
            return
        if phase not in self.phases:
            self.phases[phase] = self.bar.add_task(escape(phase), total=of, scores="")
        self.bar.start()  # no-op once started; the bar shows once the input has been read
        self.bar.update(self.phases[phase], completed=epoch, total=of, scores=escape(shown))


@app.command()
def predict(
    export_dir: Annotated[
        Path, typer.Argument(help="The folder `rlnas train-final --out` wrote.", show_default=False)
    ],
    data: Annotated[
        Path,
        typer.Argument(
            help="A .csv file (the training CSV's feature columns), an .npy array of rows "
            "shaped like the model's input, or a folder of images.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="CSV file to write (default: stdout).")
    ] = None,
) -> None:
    """Predict with an exported model: one CSV row per input (its row number or file), the
    prediction and, for a classifier, each class's probability."""
    from rlnas.export.predict import predict as run_predict

    if out is not None:
        _refuse_a_folder(out)
    predictions = run_predict(export_dir, data)
    if out is None:
        predictions.write_csv(sys.stdout)
        return
    with out.open("w", newline="") as handle:
        predictions.write_csv(handle)
    _plain(f"{len(predictions.names)} predictions written to {out}", console)


def _refuse_a_folder(out: Path) -> None:
    if out.is_dir():
        raise UserError(f"--out {out} is a folder; give a file name such as predictions.csv")


def _refuse_a_file(out: Path) -> None:
    """An output folder that names an existing file is refused before any work is done."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder (it is created if missing)")


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
    from rlnas.report import write_report

    if output.is_dir():
        raise UserError(
            f"-o {output} is a folder; give the HTML file to write, e.g. -o report.html"
        )
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
    from rlnas.report import export_trajectories

    rows = export_trajectories(store, output, names=name or ())
    stdout.print(f"{rows} steps written to {output}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def compare(
    out: Annotated[Path, typer.Option(help="Folder for summary.csv, curves.csv, curves.html.")],
    benchmark: Annotated[
        str, typer.Option(help="Tabular benchmark, e.g. nbg:cora or table:PATH (a CSV).")
    ] = "nbg:cora",
    strategies: Annotated[
        str, typer.Option(help="Comma-separated strategies (default: all registered).")
    ] = ",".join(STRATEGIES),
    seeds: Annotated[int, typer.Option(min=1, help="Seeds 0..N-1 for every strategy.")] = 20,
    budget: Annotated[int, typer.Option(min=1, help="Distinct architectures per run.")] = 100,
    workers: Annotated[int, typer.Option(min=1, help="Processes running searches at once.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON summary.")] = False,
    metric: Annotated[
        str | None, typer.Option(help="table:PATH: the searched column (default: validation).")
    ] = None,
    test_metric: Annotated[
        str | None, typer.Option(help="table:PATH: the column that judges the incumbent.")
    ] = None,
) -> None:
    """Compare strategies over many seeds on a tabular benchmark: regrets, speed, anytime curves."""
    from rlnas.compare import compare as run_compare
    from rlnas.compare import write_outputs
    from rlnas.estimators.table_file import PREFIX, read_benchmark

    if (metric or test_metric) and not benchmark.startswith(PREFIX):
        raise UserError("--metric and --test-metric name the columns of a table:PATH benchmark")
    searched = benchmark
    if metric or test_metric:
        searched = read_benchmark(benchmark, metric, test_metric)

    names = [name.strip() for name in strategies.split(",") if name.strip()]
    _refuse_a_file(out)
    bar = Progress(
        TextColumn(f"comparing on {escape(benchmark)}: runs"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
    )
    task = bar.add_task("runs", total=None)

    def on_run(run: Run, done: int, total: int) -> None:
        # started at the first finished run, so that a bad argument prints only its error line
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        result = run_compare(searched, names, seeds, budget, workers=workers, on_run=on_run)
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


class _progress:
    """What a search shows while it runs: its stages, then on a terminal a bar over trials with
    the best so far and the time left; elsewhere (a log file, nohup, CI) one line per finished
    trial. Values are the searched metric in its own units, read from the stored experiment."""

    def __init__(self, store: Path | None) -> None:
        self.store = store
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("best {task.fields[best]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task = self.bar.add_task("starting", total=None, best="-")
        self.best: Trial | None = None
        self.metric: str | None = None
        self.stages: list[str] = []
        self.experiment: str | None = None
        self.lines = not console.is_terminal

    def __enter__(self) -> _progress:
        return self  # the bar starts at the first stage, once the settings have been checked

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if self.bar.live.is_started:
            self.bar.live.transient = kind is not None  # an error's one line stands alone
            self.bar.stop()

    def stage(self, text: str) -> None:
        self.stages.append(text)
        self.bar.update(self.task, description=escape(text))
        if not self.lines:
            self.bar.start()  # no-op once started

    def started(self, experiment: str | None) -> None:
        """Everything is checked and the experiment exists: say what is searched, and where."""
        self.experiment = experiment
        for text in self.stages:
            if text.startswith("task "):
                _plain(text, self.bar.console)
        if experiment is not None:
            _plain(f"experiment {experiment}", self.bar.console)
            if self.store is not None:
                with Store(self.store, read_only=True) as opened:
                    self.metric = opened.experiment(experiment).config.get("metric")

    def trial(self, trial: Trial, done: int, budget: int) -> None:
        self.best = best_trial([t for t in (self.best, trial) if t is not None])
        best = "-" if self.best is None else self._value(self.best)
        if self.lines:
            _plain(_trial_line(trial, done, budget, self._value(trial), best), self.bar.console)
            return
        self.bar.start()
        self.bar.update(self.task, completed=done, total=budget, best=best)

    def _value(self, trial: Trial) -> str:
        """The searched metric in its own units; the reward where the metric is unknown."""
        if self.metric is not None and self.metric in trial.metrics:
            return f"{self.metric} {trial.metrics[self.metric]:.4g}"
        return "-" if trial.reward is None else f"reward {trial.reward:.4g}"


def _trial_line(trial: Trial, done: int, budget: int, value: str, best: str) -> str:
    """``trial 3 [4/10] complete: accuracy 0.9123, 1.2 s; best accuracy 0.9311``."""
    status = str(trial.status) + (" (a repeat, from the cache)" if trial.cached else "")
    what = value if trial.error is None else " ".join(trial.error.split())[:120]
    return (
        f"trial {trial.number} [{done}/{budget}] {status}: {what}, "
        f"{trial.duration_s:.1f} s; best {best}"
    )


def main() -> None:
    """Entry point: run the app and turn user errors into one line and exit status 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        sys.exit(app(standalone_mode=False) or 0)
    except UserError as error:
        _fail(str(error))
    except click_errors.NoArgsIsHelpError:
        pass  # `rlnas` alone: typer has printed the help
    except click_errors.UsageError as error:  # typer's parsing: a bad number, an unknown option
        if isinstance(error, click_errors.BadParameter) and error.param is not None:
            _fail(f"invalid setting {error.param.name!r}: {error.message}")
        _fail(error.format_message())
    except Interrupted as interrupted:
        _fail(str(interrupted), status=130)
    except (typer.Abort, KeyboardInterrupt):
        _fail("interrupted", status=130)


def _fail(message: str, status: int = 2) -> NoReturn:
    """Print ``message`` as the one line of a user error and exit with ``status``."""
    flat = " ".join(message.split())
    console.print(f"error: {flat}", markup=False, highlight=False, soft_wrap=True)
    sys.exit(status)
