"""Architecture drawings: well-formed SVG, escaped labels, and the NAS-Bench-Graph DAG's edges."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from rlnas.report import architecture_svg

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> list[str]:
    return [element.text or "" for element in ET.fromstring(svg).iter(f"{SVG}text")]


def test_chain_drawing_is_valid_xml_and_shows_hostile_names_as_text() -> None:
    svg = architecture_svg({"<script>alert(1)</script>": "a&b", "layer 'two'": '"q"'}, "custom")
    root = ET.fromstring(svg)  # raises on malformed XML, e.g. an unescaped < or &
    assert root.tag == f"{SVG}svg"
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))
    texts = _texts(svg)
    assert "<script>alert(1)</script>"[:19] in "".join(texts)  # shortened to fit, but literal
    assert "a&b" in texts and '"q"' in texts
    assert "<script>" not in svg


def test_chain_drawing_wraps_into_rows_and_links_every_box() -> None:
    choices = {f"layer{i}": "conv3" for i in range(12)}
    root = ET.fromstring(architecture_svg(choices))
    assert len(list(root.iter(f"{SVG}rect"))) == 12
    assert len(list(root.iter(f"{SVG}polyline"))) == 11
    assert int(root.get("height")) > int(root.get("width")) / 5  # three rows, not one long line


@pytest.mark.parametrize(
    ("link", "edges", "outputs"),
    [
        ("0-1-2-3", 4 + 1, "from node 4"),  # a chain: only node 4 feeds the output
        ("0-0-0-0", 4 + 4, "from node 1, 2, 3, 4"),  # all read the input, all feed the output
        ("0-0-1-3", 4 + 2, "from node 2, 4"),
    ],
)
def test_nas_bench_graph_drawing_is_the_cell_dag(link: str, edges: int, outputs: str) -> None:
    choices = {"link": link, "op0": "gcn", "op1": "<gat>", "op2": "skip", "op3": "sage"}
    svg = architecture_svg(choices, "nbg:cora")
    root = ET.fromstring(svg)
    assert len(list(root.iter(f"{SVG}polyline"))) == edges
    texts = _texts(svg)
    assert {"input", "output", "gcn", "<gat>", "skip", "sage", outputs} <= set(texts)


def test_a_non_graph_architecture_in_an_nbg_space_falls_back_to_a_chain() -> None:
    svg = architecture_svg({"link": "not-a-link", "op0": "gcn"}, "nbg:cora")
    assert "input" not in _texts(svg)
    assert {"link", "not-a-link", "op0", "gcn"} <= set(_texts(svg))
