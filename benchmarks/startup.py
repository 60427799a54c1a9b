"""How fast a search starts: a budget-1 training search on ``digits`` beside importing torch.

Each round runs, one after the other in fresh processes, ``python -c "import torch"``,
``rlnas search --task digits --budget 1 --epochs 1`` (a fresh store each time) and
``rlnas --help``; the rounds interleave the commands so that a busy machine slows them alike.
The medians over the rounds are compared: the target is a search within 2.5 times the torch
import (issue 23). Its section of RESULTS.md (between its markers) is replaced.

    python benchmarks/startup.py            # 5 rounds, about a minute
    python benchmarks/startup.py --rounds 9
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from results_file import write_section

SECTION = "startup"
TARGET_RATIO = 2.5
SEARCH = ["search", "--task", "digits", "--budget", "1", "--epochs", "1", "--seed", "0"]


def _seconds(command: list[str], cwd: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of ``command`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args(argv)
    rlnas = str(Path(sys.executable).parent / "rlnas")
    commands = {
        'python -c "import torch"': lambda index: [sys.executable, "-c", "import torch"],
        "rlnas " + " ".join(SEARCH): lambda index: [
            rlnas,
            *SEARCH,
            "--store",
            f"runs{index}.db",
        ],
        "rlnas --help": lambda index: [rlnas, "--help"],
    }
    timings: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory(prefix="rlnas-startup-") as scratch:
        _seconds(commands["rlnas --help"](0), scratch)  # a first run warms the file cache
        for index in range(args.rounds):
            for name, command in commands.items():
                wall, used = _seconds(command(index), scratch)
                timings[name].append(wall)
                cpu[name].append(used)
            print(
                f"round {index + 1}: "
                + ", ".join(f"{values[-1]:.2f} s" for values in timings.values()),
                file=sys.stderr,
            )
    medians = {name: statistics.median(values) for name, values in timings.items()}
    torch_s, search_s = list(medians.values())[:2]
    ratio = search_s / torch_s
    cpu_medians = [statistics.median(values) for values in cpu.values()]
    cpu_ratio = cpu_medians[1] / cpu_medians[0]
    lines = [
        "## Start-up: a budget-1 search beside importing torch",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python benchmarks/startup.py` "
        f"on {os.cpu_count()} CPUs ({platform.platform()}), Python {platform.python_version()}, "
        f"{args.rounds} interleaved rounds (wall time; the search trains one network for one "
        "epoch and stores it).",
        "",
        "| command | median wall s | min s | max s | median CPU s |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| `{name}` | {medians[name]:.2f} | {min(values):.2f} | {max(values):.2f} "
            f"| {statistics.median(cpu[name]):.2f} |"
            for name, values in timings.items()
        ),
        "",
        f"Target: the search within {TARGET_RATIO}x the torch import: {ratio:.2f}x, "
        f"{'MET' if ratio <= TARGET_RATIO else 'MISSED'} (load average "
        f"{os.getloadavg()[0]:.1f} at the end; in CPU time, which a busy machine disturbs less, "
        f"{cpu_ratio:.2f}x). What remains beyond torch is mostly "
        "torch's own: the optimizer's first step imports `torch._dynamo` (about a second and a "
        "half here), which no training can skip.",
    ]
    write_section(args.out, SECTION, "\n".join(lines))
    print(f"search {search_s:.2f} s, torch {torch_s:.2f} s: {ratio:.2f}x", file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
