"""An architecture as an SVG picture of the network it builds: its layers in order, a cell's
DAG of operations, or the DAG of a NAS-Bench-Graph cell; a generic space's decisions otherwise.

Decisions named with a layer index (``op0``, ``width0``, ``skip0``) are one layer; an option that
builds nothing (``none``, ``identity``, ``False``) is left out, and so is a layer left with
nothing. Decisions named ``edgeIJ`` are a cell: an operation from node I to node J. Every label
is user data (decision and option names), so each one is escaped; the result is well-formed XML
that can stand alone in a .svg file or inline in HTML.
"""

from __future__ import annotations

import itertools
import re
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


NOTHING = ("none", "identity", "None", "False", "")
"""Options that build no layer (a width of none, an identity op, a skip left off)."""
_INDEXED = re.compile(r"^([A-Za-z_]+?)(\d+)$")
_EDGE = re.compile(r"^edge(\d)(\d)$")


def architecture_svg(choices: Mapping[str, Any], space_name: str = "") -> str:
    """The SVG drawing of one architecture's ``choices`` in the space called ``space_name``."""
    if space_name.startswith("nbg:"):
        return _graph_svg(choices) if _is_nas_bench_graph(choices) else _chain_svg(choices)
    if choices and all(_EDGE.match(str(name)) for name in choices):
        return _cell_svg(choices)
    layers, overall = network_layers(choices)
    if layers is None:
        return _chain_svg(choices)
    boxes = [("", "input", "the input")]
    for index, (op, details) in layers:
        boxes.append((" · ".join(details), op, f"layer {index}: {op} " + ", ".join(details)))
    note = ", ".join(f"{name} {option}" for name, option in overall.items())
    boxes.append((note, "output", "the head: pooling or flattening, then a linear layer"))
    return _boxes_svg(boxes, note or "layers")


def network_layers(
    choices: Mapping[str, Any],
) -> tuple[list[tuple[int, tuple[str, list[str]]]] | None, dict[str, Any]]:
    """The layers the choices build, in order: (index, (operation, details)), and the decisions
    that hold for the whole network (``activation``); None when no decision has a layer index."""
    layers: dict[int, dict[str, str]] = {}
    overall: dict[str, Any] = {}
    for name, option in choices.items():
        found = _INDEXED.match(str(name))
        if found is None:
            overall[str(name)] = option
        else:
            layers.setdefault(int(found[2]), {})[found[1]] = str(option)
    if not layers:
        return None, overall
    built = []
    for index in sorted(layers):
        parts = layers[index]
        op = parts.pop("op", None)
        if op in NOTHING and op is not None:
            continue  # an identity layer: the network has nothing here
        if any(value == "none" for kind, value in parts.items() if kind in ("width", "kernel")):
            parts = {kind: value for kind, value in parts.items() if kind == "pool"}
        details = [
            kind if value == "True" else f"{kind} {value}"
            for kind, value in parts.items()
            if value not in NOTHING
        ]
        if op is None and not details:
            continue
        if op is None and set(parts) == {"pool"}:
            op, details = f"{parts['pool']} pool", []
        built.append((index, (op or _layer_kind(parts), details)))
    return built, overall


def layer_summary(choices: Mapping[str, Any]) -> str:
    """One line for a table: ``conv3x3 (width 64 · skip) → maxpool``; the decisions themselves
    where they name no layers or cell edges."""
    if choices and all(_EDGE.match(str(name)) for name in choices):
        edges = [(name, op) for name, op in choices.items() if str(op) not in NOTHING[:1]]
        return ", ".join(f"{name[4]}→{name[5]} {op}" for name, op in edges) or "no edge"
    layers, overall = network_layers(choices)
    if layers is None:
        return ", ".join(f"{name}={option}" for name, option in choices.items())
    parts = [op + (f" ({' · '.join(details)})" if details else "") for _, (op, details) in layers]
    text = " → ".join(parts) or "no layer"
    if overall:
        text += "; " + ", ".join(f"{name} {option}" for name, option in overall.items())
    return text


def _layer_kind(parts: Mapping[str, str]) -> str:
    if "kernel" in parts and parts["kernel"] not in NOTHING:
        return "conv"
    return "dense" if set(parts) <= {"width"} else "layer"


def _boxes_svg(boxes: list[tuple[str, str, str]], title: str) -> str:
    """Boxes (detail, name, tooltip) joined by arrows, left to right, PER_ROW to a row."""
    rows = max(1, -(-len(boxes) // PER_ROW))
    columns = min(PER_ROW, max(1, len(boxes)))
    width = GAP + columns * (BOX_WIDTH + GAP)
    height = rows * (BOX_HEIGHT + GAP)
    parts = [_HEAD.format(w=width, h=height, title=escape(title))]
    positions = []
    for index, (detail, name, tooltip) in enumerate(boxes):
        row, column = divmod(index, PER_ROW)
        x, y = GAP + column * (BOX_WIDTH + GAP), GAP / 2 + row * (BOX_HEIGHT + GAP)
        positions.append((x, y))
        parts.append(_box(x, y, detail, name, tooltip))
    parts += _chain_arrows(positions)
    parts.append("</svg>")
    return "".join(parts)


def _chain_arrows(positions: list[tuple[float, float]]) -> list[str]:
    arrows = []
    for (x1, y1), (x2, y2) in itertools.pairwise(positions):
        if y1 == y2:
            arrows.append(_arrow((x1 + BOX_WIDTH, y1 + BOX_HEIGHT / 2), (x2, y2 + BOX_HEIGHT / 2)))
        else:  # the chain goes on in the next row: from the bottom of one box to the next's top
            arrows.append(_arrow((x1 + BOX_WIDTH / 2, y1 + BOX_HEIGHT), (x2 + BOX_WIDTH / 2, y2)))
    return arrows


def _cell_svg(choices: Mapping[str, Any]) -> str:
    """A cell (NAS-Bench-201 style): nodes left to right, node 0 the input and the last the
    output; each edge that is not ``none`` an arc labelled with its operation."""
    edges = []
    for name, op in choices.items():
        found = _EDGE.match(str(name))
        assert found is not None
        if str(op) not in NOTHING[:1]:
            edges.append((int(found[1]), int(found[2]), str(op)))
    nodes = 1 + max(max(int(_EDGE.match(str(n))[2]) for n in choices), 1)  # type: ignore[index]
    spacing = BOX_WIDTH + 2 * GAP
    width = GAP + nodes * spacing
    middle = 40 + 30 * nodes
    height = 2 * middle
    title = "cell: " + (", ".join(f"{a}→{b} {op}" for a, b, op in edges) or "no edge")
    parts = [_HEAD.format(w=width, h=height, title=escape(title))]
    centre = {node: (GAP + node * spacing + BOX_WIDTH / 2, middle) for node in range(nodes)}
    for number, (source, target, op) in enumerate(edges):
        (x1, y), (x2, _) = centre[source], centre[target]
        span = target - source
        lift = 0 if span == 1 else (26 * span) * (-1 if number % 2 else 1)
        if lift == 0:
            parts.append(_arrow((x1 + BOX_WIDTH / 2, y), (x2 - BOX_WIDTH / 2, y)))
            label_y = y - 6
        else:
            top = y - BOX_HEIGHT / 2 if lift > 0 else y + BOX_HEIGHT / 2
            apex = top - lift
            parts.append(_arrow((x1, top), (x1, apex), (x2, apex), (x2, top)))
            label_y = apex - 4 if lift > 0 else apex + 14
        parts.append(
            f'<text x="{(x1 + x2) / 2:g}" y="{label_y:g}" text-anchor="middle" '
            f'fill="{"#888" if op == "skip" else "#222"}">{_label(op)}</text>'
        )
    for node, (x, y) in centre.items():
        name = "input" if node == 0 else "output" if node == nodes - 1 else f"node {node}"
        parts.append(_box(x - BOX_WIDTH / 2, y - BOX_HEIGHT / 2, f"node {node}", name, name))
    parts.append("</svg>")
    return "".join(parts)


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
    parts += _chain_arrows(positions)
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
