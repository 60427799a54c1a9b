"""Architecture drawings: well-formed SVG, escaped labels, and the NAS-Bench-Graph DAG's edges."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from rlnas.report import architecture_svg
from rlnas.report.drawing import layer_summary

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
    assert len(list(root.iter(f"{SVG}rect"))) == 1 + 12 + 1  # input, the layers, output
    assert len(list(root.iter(f"{SVG}polyline"))) == 13
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


CHAIN_CNN = {
    "op0": "conv3x3",
    "width0": 64,
    "skip0": True,
    "op1": "identity",
    "width1": "none",
    "skip1": False,
    "op2": "sepconv3x3",
    "width2": 32,
    "skip2": False,
    "op3": "maxpool",
    "width3": "none",
    "skip3": False,
}


def test_a_layered_network_is_drawn_as_its_layers_without_what_builds_nothing() -> None:
    svg = architecture_svg(CHAIN_CNN, "chain-cnn")
    texts = _texts(svg)
    assert texts[1::2] == ["input", "conv3x3", "sepconv3x3", "maxpool", "output"]
    assert "width 64 · skip" in texts and "width 32" in texts
    assert not {"identity", "none", "False", "op1", "width1"} & set(texts)
    assert layer_summary(CHAIN_CNN) == "conv3x3 (width 64 · skip) → sepconv3x3 (width 32) → maxpool"


def test_an_mlp_names_its_dense_layers_and_what_holds_for_all() -> None:
    choices = {"activation": "tanh", "dropout": 0.3, "width0": 64, "width1": "none", "width2": 8}
    assert layer_summary(choices) == (
        "dense (width 64) → dense (width 8); activation tanh, dropout 0.3"
    )
    assert "<title>activation tanh, dropout 0.3</title>" in architecture_svg(choices, "mlp")


def test_a_cell_is_drawn_as_its_edges_with_none_left_out() -> None:
    choices = {
        "edge01": "conv3x3",
        "edge02": "none",
        "edge12": "skip",
        "edge03": "avgpool3x3",
        "edge13": "none",
        "edge23": "conv1x1",
    }
    svg = architecture_svg(choices, "cell-cnn")
    root = ET.fromstring(svg)
    assert len(list(root.iter(f"{SVG}polyline"))) == 4
    assert len(list(root.iter(f"{SVG}rect"))) == 4  # nodes 0..3
    texts = _texts(svg)
    assert {"conv3x3", "skip", "avgpool3x3", "conv1x1", "input", "output"} <= set(texts)
    assert "none" not in texts
    assert layer_summary(choices) == "0→1 conv3x3, 1→2 skip, 0→3 avgpool3x3, 2→3 conv1x1"
