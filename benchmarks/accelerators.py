"""Training throughput: rows in memory against rows read from files, nb201-cell, and GPUs.

Samples per second of training (rows of the training split times epochs, over the seconds of
training), for the same architectures and seeds on each data path:

- ``digits`` as rlnas ships it (in-memory tensors, the fast path);
- ``digits`` written as 8x8 PNG files into a temporary folder and read back as a ``folder:``
  task: small, so in memory like the first; and forced on disk, so every epoch decodes the PNG
  files again through a ``DataLoader``;
- the same images as a memory-mapped ``.npy`` array, on disk, through the ``DataLoader``;
- ``nb201-cell`` (one cell per stage, 16 channels) on random 3x32x32 images.

Target: the file-backed path (PNG files on disk) within 15 % of the in-memory one. On a machine
with a CUDA GPU the script also measures nb201-cell in fp32 against bf16, and one against two
concurrent trials on one GPU (process executor); on a machine without one it says so. Each
figure is the median of ``--repeats`` runs, interleaved. One torch thread, as ``rlnas search``
trains. Its section of RESULTS.md (between its markers) is replaced; the rest is kept.

    python benchmarks/accelerators.py            # the full run (a few minutes on 2 cores)
    python benchmarks/accelerators.py --quick    # a smoke test, written to $TMPDIR
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import rlnas
from results_file import write_section
from rlnas.devices import DeviceSettings
from rlnas.estimators.training import TrainingEvaluator
from rlnas.tasks import Task, load_task, make_task
from rlnas.tasks.files import npy_task
from rlnas.tasks.images import folder_task

SECTION = "accelerators"
AS_LOADED = "digits, PNG files, `folder:` as loaded (small: read into memory)"
ON_DISK = "digits, PNG files kept on disk (DataLoader decodes them every epoch)"
ON_DISK_WORKER = "digits, PNG files kept on disk, 1 DataLoader worker process"
TARGET = 0.15
CHAIN = {"op0": "conv3x3", "width0": 16, "skip0": False, "op1": "maxpool", "width1": "none"}
CHAIN |= {"skip1": False, "op2": "conv3x3", "width2": 32, "skip2": True}
CHAIN |= {"op3": "identity", "width3": "none", "skip3": False}
CELL = {"edge01": "conv3x3", "edge02": "skip", "edge12": "conv1x1"}
CELL |= {"edge03": "avgpool3x3", "edge13": "none", "edge23": "conv3x3"}


def samples_per_second(
    task: Task, space: str, choices: dict, epochs: int, devices: DeviceSettings | None = None
) -> float:
    evaluator = TrainingEvaluator(task, space, epochs=epochs, seed=0, devices=devices)
    metrics = evaluator(evaluator.search_space().architecture(choices))
    return len(task.y_train) * metrics["epochs"] / metrics["train_time_s"]


def digits_files(folder: Path) -> tuple[Path, Path]:
    """``digits`` as PNG files (one folder per class) and as X.npy / y.npy, pixels 0-255."""
    from sklearn.datasets import load_digits

    data = load_digits()
    pixels = (data.images * 255 / 16).round().astype(np.uint8)
    images = folder / "digits"
    for index, (image, label) in enumerate(zip(pixels, data.target)):
        (images / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image, "L").save(images / str(label) / f"{index:04d}.png")
    arrays = folder / "arrays"
    arrays.mkdir()
    np.save(arrays / "X.npy", pixels[:, None])
    np.save(arrays / "y.npy", data.target)
    return images, arrays


def measure(runs: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {name: [] for name in runs}
    for repeat in range(repeats):
        for name, run in runs.items():
            figures[name].append(run())
            print(f"repeat {repeat}: {name}: {figures[name][-1]:.0f} /s", file=sys.stderr)
    return figures


def gpu_runs(args: argparse.Namespace, images: Task) -> dict[str, Callable[[], float]]:
    """nb201-cell on the GPU: fp32, bf16, and two trials at once on one GPU."""
    fp32 = DeviceSettings(device="cuda:0")
    bf16 = DeviceSettings(device="cuda:0", precision="bf16")

    def concurrent(workers: int) -> float:
        evaluator = TrainingEvaluator(images, "nb201-cell", epochs=args.epochs, devices=fp32)
        space = evaluator.search_space()
        started = time.perf_counter()
        result = rlnas.search(
            space,
            evaluator,
            "random",
            budget=2 * workers,
            seed=0,
            workers=workers,
            executor="process",
        )
        seconds = time.perf_counter() - started
        assert not any(trial.failed for trial in result.trials)
        return 2 * workers * len(images.y_train) * args.epochs / seconds

    return {
        "gpu nb201-cell fp32": lambda: samples_per_second(
            images, "nb201-cell", CELL, args.epochs, fp32
        ),
        "gpu nb201-cell bf16": lambda: samples_per_second(
            images, "nb201-cell", CELL, args.epochs, bf16
        ),
        "gpu 1 trial at a time": lambda: concurrent(1),
        "gpu 2 trials at once": lambda: concurrent(2),
    }


def section(args: argparse.Namespace, figures: dict[str, list[float]], seconds: float) -> str:
    median = {name: statistics.median(values) for name, values in figures.items()}
    base = median["digits, in memory"]
    lines = [
        "## Accelerators and data read from files",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by "
        f"`{shlex.join(['python', 'benchmarks/accelerators.py', *sys.argv[1:]])}` in "
        f"{seconds / 60:.1f} min on {os.cpu_count()} CPUs "
        f"({platform.platform()}, {platform.processor() or 'CPU'}), Python "
        f"{platform.python_version()}, torch {torch.__version__}, one torch thread per trial.",
        f"Samples per second of training, median of {args.repeats} interleaved runs of "
        f"{args.epochs} epochs; `digits` with a fixed `chain-cnn` (conv3x3-16, max-pool, "
        "residual conv3x3-32), `nb201-cell` with a fixed cell on "
        f"{args.images} random 3x32x32 images. The CPUs are shared with other work, so one "
        "configuration's runs vary (the runs column); the paths are interleaved within each "
        "repeat so that a busy spell slows them all.",
        "",
        "| data path | machine | samples / s | vs in memory | runs |",
        "|---|---|---:|---:|---|",
    ]
    for name, values in figures.items():
        machine = "GPU" if name.startswith("gpu") else "CPU"
        versus = f"{median[name] / base - 1:+.1%}" if name.startswith("digits") else ""
        name = name.replace("|", "/")
        runs = ", ".join(f"{value:.0f}" for value in values)
        lines.append(f"| {name} | {machine} | {median[name]:.0f} | {versus} | {runs} |")
    lines += [
        "",
        f"Target: the file-backed path within {TARGET:.0%} of in-memory ({base:.0f} samples/s):",
    ]
    for name, what in (
        (AS_LOADED, "as `load_task('folder:...')` builds it (a small folder is read once)"),
        (ON_DISK, "forced to stay on disk, PNG files decoded through the DataLoader"),
        (ON_DISK_WORKER, "the same with one DataLoader worker process"),
    ):
        gap = 1 - median[name] / base
        verdict = "MET" if gap <= TARGET else "MISSED"
        lines.append(f"- {what}: {median[name]:.0f} samples/s, {-gap:+.1%} ({verdict}).")
    lines.append(
        "Decoding an 8x8 PNG costs more than training on it, so the on-disk path for image files "
        "pays off only for data sets that do not fit in memory; the memory-mapped `.npy` path "
        "only copies rows, which costs far less."
    )
    if not torch.cuda.is_available():
        lines.append(
            "Every figure above was taken on this CPU machine; none was taken on a GPU (this "
            "machine has none), so fp32 against bf16 and 1 against 2 concurrent trials on one "
            "GPU are not measured here: rerun the script on a machine with a CUDA GPU."
        )
    else:
        lines.append(f"The GPU rows ran on {torch.cuda.get_device_name(0)}; the rest on the CPU.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--images", type=int, default=300, help="32x32 images for nb201-cell")
    parser.add_argument("--quick", action="store_true", help="1 epoch, 1 repeat, 60 images")
    parser.add_argument("--out", type=Path, help="markdown file (default benchmarks/RESULTS.md)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.repeats, args.images = 1, 1, 60
        args.out = args.out or Path(tempfile.gettempdir()) / "rlnas-quick" / "RESULTS.md"
    args.out = args.out or Path(__file__).parent / "RESULTS.md"
    torch.set_num_threads(1)
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    images = make_task(
        "random 32x32", rng.normal(size=(args.images, 3, 32, 32)), np.arange(args.images) % 10
    )
    with tempfile.TemporaryDirectory(prefix="rlnas-accelerators-") as scratch:
        png, arrays = digits_files(Path(scratch))
        tasks = {
            "digits, in memory": load_task("digits"),
            AS_LOADED: folder_task(str(png)),
            ON_DISK: folder_task(str(png), in_memory_bytes=0),
            "digits, .npy memory map (DataLoader)": npy_task(arrays, in_memory_bytes=0),
        }
        runs = {
            name: (lambda task=task: samples_per_second(task, "chain-cnn", CHAIN, args.epochs))
            for name, task in tasks.items()
        }
        one_worker = DeviceSettings(device="cpu", data_workers=1)
        runs[ON_DISK_WORKER] = lambda: samples_per_second(
            tasks[ON_DISK], "chain-cnn", CHAIN, args.epochs, one_worker
        )
        runs["nb201-cell, 32x32, in memory"] = lambda: samples_per_second(
            images, "nb201-cell", CELL, args.epochs, DeviceSettings(device="cpu")
        )
        if torch.cuda.is_available():
            runs |= gpu_runs(args, images)
        figures = measure(runs, args.repeats)
    write_section(args.out, SECTION, section(args, figures, time.perf_counter() - started))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
