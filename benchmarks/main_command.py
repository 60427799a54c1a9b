"""How long the README's main job takes here: its ``rlnas`` commands exactly as written.

The commands are read from README.md (the line that starts the main job), run one after the
other in a scratch folder with this environment's ``rlnas``, and timed. The set-up part (venv,
pip install) is not timed. Its section of RESULTS.md (between its markers) is replaced.

    python benchmarks/main_command.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from results_file import write_section

SECTION = "main_command"
README = Path(__file__).parents[1] / "README.md"
LIMIT_S = 132
"""About two minutes: 120 s and a tenth."""


def readme_commands() -> list[list[str]]:
    """The ``rlnas`` commands of the README's main job, as argument lists."""
    main_job = next(line for line in README.read_text().splitlines() if line.startswith("python3"))
    return [shlex.split(part)[1:] for part in main_job.split(" && ") if "rlnas " in part]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args(argv)
    rlnas = Path(sys.executable).parent / "rlnas"
    timings = []
    with tempfile.TemporaryDirectory(prefix="rlnas-main-") as scratch:
        for command in readme_commands():
            started = time.perf_counter()
            subprocess.run([str(rlnas), *command], cwd=scratch, check=True, capture_output=True)
            timings.append((command, time.perf_counter() - started))
            print(f"rlnas {command[0]}: {timings[-1][1]:.1f} s", file=sys.stderr)
        test = json.loads((Path(scratch) / "final" / "metrics.json").read_text())["test"]
    total = sum(seconds for _, seconds in timings)
    lines = [
        "## The README's main job",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python benchmarks/main_command.py` "
        f"on {os.cpu_count()} CPUs ({platform.platform()}), Python {platform.python_version()}.",
        "",
        "| command | seconds |",
        "|---|---:|",
        *(f"| `rlnas {shlex.join(command)}` | {seconds:.1f} |" for command, seconds in timings),
        f"| total | {total:.1f} |",
        "",
        f"Final model's test accuracy: {test['accuracy']:.4f}. Target: about two minutes, at "
        f"most {LIMIT_S} s: {total:.0f} s, {'MET' if total <= LIMIT_S else 'MISSED'}.",
    ]
    write_section(args.out, SECTION, "\n".join(lines))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
