"""Every device path of rlnas, exercised once, with a short report: ready for the first GPU.

On a machine with a CUDA GPU it runs, and times:

- full training at 32, bf16 and 16-mixed precision (samples per second against the CPU, the
  accuracy reached), on ``digits`` with a fixed chain-cnn;
- a search on the process executor with one GPU per worker (worker i gets ``cuda:(i mod GPUs)``);
- a search on Ray with ``gpus_per_trial=0.5`` (two trials share a GPU);
- weight sharing (ENAS) and the supernet (SPOS) searches on the GPU;
- ``train-final`` on the GPU, its TorchScript (and ONNX, if onnxruntime is installed) export
  loaded back on the CPU and compared: its test accuracy there against the one reported;
- a ``nb201-cell`` network's training throughput on 3x32x32 images, fp32 and bf16;
- GPU memory after each of several trials and after an ASHA search that stops trials early
  (it must come back to where it started: Ray users report stopped trials keeping theirs,
  ray#23971).

Without a GPU it runs the same paths on the CPU, small, and lists plainly what it skipped. The
report (markdown) is printed and written to ``--out``. A check that fails is reported with its
error and the others still run; the exit status is 1 if any failed.

    python benchmarks/device_check.py                      # ~3 min on 2 CPU cores; < 10 on a GPU
    python benchmarks/device_check.py --out gpu-check.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

import rlnas
from rlnas.devices import DeviceSettings
from rlnas.estimators.training import TrainingEvaluator
from rlnas.export.files import ONNX, TORCHSCRIPT
from rlnas.export.final_training import train_final
from rlnas.export.raw_units import raw_features
from rlnas.tasks import Task, load_task, make_task

CHAIN = {"op0": "conv3x3", "width0": 16, "skip0": False, "op1": "maxpool", "width1": "none"}
CHAIN |= {"skip1": False, "op2": "conv3x3", "width2": 32, "skip2": True}
CHAIN |= {"op3": "identity", "width3": "none", "skip3": False}
CELL = {"edge01": "conv3x3", "edge02": "skip", "edge12": "conv1x1"}
CELL |= {"edge03": "avgpool3x3", "edge13": "none", "edge23": "conv3x3"}
MIB = 1024**2
MEMORY_SLACK = MIB
"""Bytes of GPU memory a finished trial may leave allocated (the allocator's own bookkeeping)."""


@dataclass
class Report:
    """What ran (check, device, outcome, figures) and what was skipped, with why."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def check(self, name: str, device: str, run: Callable[[], str]) -> None:
        started = time.perf_counter()
        print(f"{name} on {device} ...", file=sys.stderr, flush=True)
        try:
            detail = run()
            outcome = "ok"
        except Exception as error:  # a failed check is reported; the others still run
            traceback.print_exc()
            detail, outcome = f"{type(error).__name__}: {error}".replace("\n", " ")[:300], "FAILED"
        detail += f" ({time.perf_counter() - started:.0f} s)"
        self.rows.append((name, device, outcome, detail))

    def skip(self, name: str, why: str) -> None:
        self.skipped.append((name, why))

    @property
    def failed(self) -> bool:
        return any(outcome != "ok" for _, _, outcome, _ in self.rows)

    def markdown(self, seconds: float, gpu: str | None) -> str:
        lines = [
            "# rlnas device check",
            "",
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
            f"{gpu or 'no CUDA GPU'}, torch {torch.__version__}, {os.cpu_count()} CPUs, "
            f"{seconds / 60:.1f} min.",
            "",
            "| check | device | outcome | figures |",
            "|---|---|---|---|",
            *(
                f"| {name} | {device} | {outcome} | {detail} |"
                for name, device, outcome, detail in self.rows
            ),
        ]
        if self.skipped:
            lines += ["", "Skipped:", *(f"- {name}: {why}" for name, why in self.skipped)]
        return "\n".join(lines) + "\n"


def throughput(
    task: Task, space: str, choices: dict, epochs: int, devices: DeviceSettings
) -> tuple[float, float]:
    """Training samples per second and the validation accuracy reached."""
    evaluator = TrainingEvaluator(task, space, epochs=epochs, seed=0, devices=devices)
    metrics = evaluator(evaluator.search_space().architecture(choices))
    return len(task.y_train) * metrics["epochs"] / metrics["train_time_s"], metrics["accuracy"]


def precisions(digits: Task, epochs: int, gpu: bool) -> Callable[[], str]:
    def run() -> str:
        cpu, cpu_accuracy = throughput(
            digits, "chain-cnn", CHAIN, epochs, DeviceSettings(device="cpu")
        )
        parts = [f"cpu 32: {cpu:,.0f} samples/s, accuracy {cpu_accuracy:.3f}"]
        for precision in ("32", "bf16", "16-mixed") if gpu else ():
            devices = DeviceSettings(device="cuda", precision=precision)
            speed, accuracy = throughput(digits, "chain-cnn", CHAIN, epochs, devices)
            parts.append(
                f"cuda {precision}: {speed:,.0f} samples/s ({speed / cpu:.1f}x cpu), "
                f"accuracy {accuracy:.3f}"
            )
        return "; ".join(parts)

    return run


def searched(config: rlnas.SearchConfig, expected: int) -> str:
    """Run a search; every trial must complete. Its trials, best accuracy and seconds."""
    started = time.perf_counter()
    result = rlnas.run(config)
    failed = [trial.error for trial in result.trials if trial.failed]
    if failed or len(result.trials) < expected:
        raise RuntimeError(f"{len(failed)} of {len(result.trials)} trials failed: {failed[:1]}")
    best = result.best.metrics["accuracy"] if result.best else float("nan")
    return (
        f"{len(result.trials)} trials complete, best accuracy {best:.3f}, "
        f"{time.perf_counter() - started:.1f} s"
    )


def exported_on_cpu(store: Path, out: Path, epochs: int, device: str) -> Callable[[], str]:
    def run() -> str:
        final = train_final(
            store, epochs=epochs, out_dir=out, devices=DeviceSettings(device=device)
        )
        task = load_task("digits")
        inputs = raw_features(task, task.X_test)
        loaded = torch.jit.load(str(out / TORCHSCRIPT), map_location="cpu")
        with torch.no_grad():
            scripted = loaded(inputs)
            reference = final.model.cpu()(inputs)
        accuracy = (scripted.argmax(1) == task.y_test).float().mean().item()
        reported = final.test_metrics["accuracy"]
        difference = (scripted - reference).abs().max().item()
        parts = [
            f"TorchScript on cpu: test accuracy {accuracy:.4f} (reported {reported:.4f}), "
            f"max abs logit difference {difference:.2e}"
        ]
        # raw features standardized again may round one borderline row the other way
        if abs(accuracy - reported) > 1.5 / len(task.y_test) or difference > 1e-4:
            raise RuntimeError(parts[0])
        try:
            import onnxruntime
        except ImportError:
            parts.append("ONNX not checked (onnxruntime not installed)")
        else:
            session = onnxruntime.InferenceSession(
                str(out / ONNX), providers=["CPUExecutionProvider"]
            )
            name = session.get_inputs()[0].name
            onnx = session.run(None, {name: inputs.numpy()})[0]
            gap = np.abs(onnx - reference.numpy()).max()
            parts.append(f"ONNX on cpu: max abs logit difference {gap:.2e}")
        return "; ".join(parts)

    return run


def memory_released(digits: Task, scratch: Path) -> str:
    """GPU memory allocated after each trial, and after an ASHA search, against what the first
    trial left (the data moved to the GPU once, the allocator's caches)."""
    evaluator = TrainingEvaluator(
        digits, "chain-cnn", epochs=2, seed=0, devices=DeviceSettings(device="cuda")
    )
    space = evaluator.search_space()
    rng = np.random.default_rng(0)
    evaluator(space.sample(rng))
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    growth = []
    for _ in range(5):
        evaluator(space.sample(rng))
        torch.cuda.synchronize()
        growth.append(torch.cuda.memory_allocated() - before)
    config = rlnas.SearchConfig(
        task="digits",
        space="chain-cnn",
        epochs=9,
        scheduler="asha",
        budget=8,
        device="cuda",
        store=scratch / "asha.db",
    )
    result = rlnas.run(config)
    torch.cuda.synchronize()
    after_asha = torch.cuda.memory_allocated() - before
    pruned = sum(trial.pruned for trial in result.trials)
    text = (
        f"allocated after each of 5 trials: {', '.join(f'{g / MIB:+.1f}' for g in growth)} MiB; "
        f"after an ASHA search ({pruned} of {len(result.trials)} stopped early): "
        f"{after_asha / MIB:+.1f} MiB; peak {torch.cuda.max_memory_allocated() / MIB:.0f} MiB"
    )
    if max(*growth, after_asha) > MEMORY_SLACK:
        raise RuntimeError(text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("device-check.md"), help="the report")
    parser.add_argument("--no-ray", dest="ray", action="store_false", help="skip the Ray check")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    gpu = torch.cuda.is_available()
    name = torch.cuda.get_device_name(0) if gpu else None
    gpus = torch.cuda.device_count() if gpu else 0
    device = "cuda" if gpu else "cpu"
    epochs = 5 if gpu else 1
    report = Report()
    started = time.perf_counter()
    digits = load_task("digits")
    images = 4096 if gpu else 64
    rng = np.random.default_rng(0)
    cells = make_task("random 32x32", rng.normal(size=(images, 3, 32, 32)), np.arange(images) % 10)
    small = {"task": "digits", "space": "chain-cnn", "epochs": 1, "device": device}
    with tempfile.TemporaryDirectory(prefix="rlnas-device-check-") as folder:
        scratch = Path(folder)
        report.check(
            "full training, precisions",
            "cpu, cuda" if gpu else "cpu",
            precisions(digits, epochs, gpu),
        )
        workers = max(2, gpus)
        report.check(
            f"process executor, {workers} workers" + (", one GPU each" if gpu else ""),
            device,
            lambda: searched(
                rlnas.SearchConfig(
                    **small,
                    workers=workers,
                    executor="process",
                    budget=2 * workers,
                    store=scratch / "process.db",
                ),
                2 * workers,
            ),
        )
        if args.ray:
            ray_options = {"gpus_per_trial": 0.5} if gpu else {}
            report.check(
                "Ray executor, 2 workers" + (", gpus_per_trial=0.5" if gpu else ""),
                device,
                lambda: ray_search(small, ray_options, scratch),
            )
        else:
            report.skip("Ray executor", "--no-ray")
        report.check(
            "weight sharing (ENAS)",
            device,
            lambda: searched(
                rlnas.SearchConfig(
                    **small, estimator="weight-sharing", budget=6, store=scratch / "ws.db"
                ),
                6,
            ),
        )
        report.check(
            "supernet (SPOS)",
            device,
            lambda: searched(
                rlnas.SearchConfig(
                    **small,
                    estimator="supernet",
                    supernet_steps=200 if gpu else 20,
                    supernet_path=scratch / "supernet.safetensors",
                    budget=6,
                    store=scratch / "spos.db",
                ),
                6,
            ),
        )
        report.check(
            "train-final, exports loaded on cpu",
            device,
            exported_on_cpu(scratch / "process.db", scratch / "final", epochs, device),
        )

        def cell_speed() -> str:
            parts = []
            for where, precision in [
                ("cpu", "32"),
                *([("cuda", "32"), ("cuda", "bf16")] if gpu else []),
            ]:
                settings = DeviceSettings(device=where, precision=precision)
                speed, _ = throughput(
                    cells, "nb201-cell", CELL, 1 if where == "cpu" else 2, settings
                )
                parts.append(f"{where} {precision}: {speed:,.0f} samples/s")
            return f"{images if gpu else 64} images: " + "; ".join(parts)

        report.check("nb201-cell throughput, 3x32x32", "cpu, cuda" if gpu else "cpu", cell_speed)
        if gpu:
            report.check(
                "GPU memory released between trials",
                "cuda",
                lambda: memory_released(digits, scratch),
            )
    if not gpu:
        for what in (
            "full training on cuda at 32, bf16 and 16-mixed",
            "one GPU per process worker",
            "Ray with gpus_per_trial=0.5",
            "weight sharing, the supernet and train-final on the GPU",
            "nb201-cell on the GPU",
            "GPU memory released between trials (ASHA)",
        ):
            report.skip(
                what,
                "no CUDA GPU on this machine (its CPU path ran instead, where it has one)",
            )
    text = report.markdown(time.perf_counter() - started, name)
    args.out.write_text(text)
    print(text)
    print(f"written to {args.out}", file=sys.stderr)
    return 1 if report.failed else 0


def ray_search(small: dict, options: dict, scratch: Path) -> str:
    """A search on Ray started here, on this machine's loopback address only."""
    import ray

    ray.init(
        num_cpus=max(2, os.cpu_count() or 1),
        include_dashboard=False,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(filter(None, sys.path))}},
    )
    try:
        config = rlnas.SearchConfig(
            **small, workers=2, executor="ray", budget=4, store=scratch / "ray.db", **options
        )
        return searched(config, 4)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
