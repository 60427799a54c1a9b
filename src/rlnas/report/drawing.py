"""An architecture as an SVG picture: a chain of decisions, or the DAG of a NAS-Bench-Graph cell.

Every label is user data (decision and option names), so each one is escaped; the result is
well-formed XML that can stand alone in a .svg file or inline in HTML.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from html import escape
from typing import Any

BOX_WIDTH = 150
BOX_HEIGHT = 44
GAP = 36
PER_ROW = 5
LABEL_CHARS = 20

_HEAD = (
    '<svg xmlns="http://www.w3.org/2000/svg" class="architecture" width="{w}" height="{h}" '
    'viewBox="0 0 {w} {h}" role="img" font-family="sans-serif" font-size="12">'
    "<title>{title}</title>"
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
    'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
    "</marker></defs>"
)


def architecture_svg(choices: Mapping[str, Any], space_name: str = "") -> str:
    """The SVG drawing of one architecture's ``choices`` in the space called ``space_name``."""
    if space_name.startswith("nbg:") and _is_nas_bench_graph(choices):
        return _graph_svg(choices)
    return _chain_svg(choices)


def _is_nas_bench_graph(choices: Mapping[str, Any]) -> bool:
    link = str(choices.get("link", "")).split("-")
    ops = [f"op{node}" for node in range(len(link))]
    return all(part.isdigit() for part in link) and all(op in choices for op in ops)


def _label(text: object) -> str:
    """Escaped text, shortened so it fits a box (the full text is in the box's tooltip)."""
    text = str(text)
    short = text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"
    return escape(short)


def _box(x: float, y: float, top: str, bottom: str, tooltip: str, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f'<g class="node"><title>{escape(tooltip)}</title>'
        f'<rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6" '
        f'fill="#eef3fb" stroke="#4a6fa5"{dash}/>'
        f'<text x="{x + BOX_WIDTH / 2}" y="{y + 17}" text-anchor="middle" fill="#666">'
        f"{_label(top)}</text>"
        f'<text x="{x + BOX_WIDTH / 2}" y="{y + 34}" text-anchor="middle" font-weight="bold">'
        f"{_label(bottom)}</text></g>"
    )


def _arrow(*points: tuple[float, float]) -> str:
    """A polyline through ``points`` with an arrowhead at the last one."""
    coordinates = " ".join(f"{x:g},{y:g}" for x, y in points)
    return (
        f'<polyline points="{coordinates}" fill="none" stroke="#555" stroke-width="1.5" '
        'marker-end="url(#arrow)"/>'
    )


def _chain_svg(choices: Mapping[str, Any]) -> str:
    """The decisions in order as labelled boxes, left to right, wrapping every PER_ROW boxes."""
    items = list(choices.items())
    rows = max(1, -(-len(items) // PER_ROW))
    columns = min(PER_ROW, max(1, len(items)))
    width = GAP + columns * (BOX_WIDTH + GAP)
    height = rows * (BOX_HEIGHT + GAP)
    title = ", ".join(f"{name} = {option}" for name, option in items)
    parts = [_HEAD.format(w=width, h=height, title=escape(title))]
    positions = []
    for index, (name, option) in enumerate(items):
        row, column = divmod(index, PER_ROW)
        x, y = GAP + column * (BOX_WIDTH + GAP), GAP / 2 + row * (BOX_HEIGHT + GAP)
        positions.append((x, y))
        parts.append(_box(x, y, str(name), str(option), f"{name} = {option}"))
    for (x1, y1), (x2, y2) in itertools.pairwise(positions):
        if y1 == y2:
            parts.append(_arrow((x1 + BOX_WIDTH, y1 + BOX_HEIGHT / 2), (x2, y2 + BOX_HEIGHT / 2)))
        else:  # the chain goes on in the next row: from the bottom of one box to the next's top
            parts.append(_arrow((x1 + BOX_WIDTH / 2, y1 + BOX_HEIGHT), (x2 + BOX_WIDTH / 2, y2)))
    parts.append("</svg>")
    return "".join(parts)


def _graph_svg(choices: Mapping[str, Any]) -> str:
    """A NAS-Bench-Graph cell (Qin et al., NeurIPS 2022): node k reads node ``link[k-1]``.

    Node 0 is the input; computing nodes 1..4 apply op0..op3; the nodes that no other node
    reads feed the output. Columns are the nodes' depth from the input.
    """
    link = [int(part) for part in str(choices["link"]).split("-")]
    ops = [str(choices[f"op{node}"]) for node in range(len(link))]
    depth = {0: 0}
    for node, source in enumerate(link, start=1):
        depth[node] = depth.get(source, 0) + 1
    read = set(link)
    last = [node for node in range(1, len(link) + 1) if node not in read]
    output = len(link) + 1
    depth[output] = max(depth.values()) + 1
    columns: dict[int, list[int]] = {}
    for node in sorted(depth):
        columns.setdefault(depth[node], []).append(node)
    tallest = max(len(nodes) for nodes in columns.values())
    width = GAP + len(columns) * (BOX_WIDTH + GAP)
    height = GAP + tallest * (BOX_HEIGHT + GAP)
    where = {}
    for column, nodes in columns.items():
        offset = (height - len(nodes) * (BOX_HEIGHT + GAP) + GAP) / 2
        for row, node in enumerate(nodes):
            where[node] = (GAP + column * (BOX_WIDTH + GAP), offset + row * (BOX_HEIGHT + GAP))
    title = f"link {choices['link']}: " + ", ".join(
        f"node {node} = {op}" for node, op in enumerate(ops, 1)
    )
    parts = [_HEAD.format(w=width, h=height, title=escape(title))]
    edges = [(source, node) for node, source in enumerate(link, start=1)]
    edges += [(node, output) for node in last]
    for source, target in edges:
        skipped = [where[n][1] for n in depth if depth[source] < depth[n] < depth[target]]
        parts.append(_edge(where[source], where[target], skipped))
    parts.append(_box(*where[0], "node 0", "input", "the input graph"))
    for node, op in enumerate(ops, start=1):
        tooltip = f"node {node} = {op}(node {link[node - 1]})"
        parts.append(_box(*where[node], f"node {node}", op, tooltip, dashed=op == "skip"))
    parts.append(_box(*where[output], "from node " + ", ".join(map(str, last)), "output", "output"))
    parts.append("</svg>")
    return "".join(parts)


def _edge(source: tuple[float, float], target: tuple[float, float], skipped: list[float]) -> str:
    """An arrow from box ``source`` to box ``target`` (top-left corners).

    An edge that jumps over columns runs along a free horizontal lane, so that it never seems to
    enter a box it passes (``skipped`` holds the tops of the boxes in the columns between).
    """
    (x1, y1), (x2, y2) = source, target
    start, end = (x1 + BOX_WIDTH, y1 + BOX_HEIGHT / 2), (x2, y2 + BOX_HEIGHT / 2)
    if not skipped:
        return _arrow(start, end)
    lanes = (
        [start[1]]
        + [top - GAP / 2 for top in skipped]
        + [top + BOX_HEIGHT + GAP / 2 for top in skipped]
    )
    free = [y for y in lanes if not any(top - 4 <= y <= top + BOX_HEIGHT + 4 for top in skipped)]
    lane = min(free, key=lambda y: abs(y - start[1]))
    return _arrow(start, (x1 + BOX_WIDTH + GAP / 2, lane), (x2 - GAP / 2, lane), end)
