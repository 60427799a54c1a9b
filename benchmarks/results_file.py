"""RESULTS.md is shared by the benchmark scripts: each owns one section between its markers."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, name: str, text: str) -> None:
    """Replace the section ``name`` of ``path`` (or add it), keeping everything else.

    The section lies between ``<!-- name:start -->`` and ``<!-- name:end -->``, so scripts can
    be rerun in any order without erasing each other's results.
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text}\n{end}"
    content = path.read_text() if path.exists() else "# Benchmark results\n"
    if start in content and end in content:
        before, rest = content.split(start, 1)
        content = before + block + rest.split(end, 1)[1]
    else:
        content = content.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
