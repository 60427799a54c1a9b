"""The HTML report without a browser: self-contained, escaped, one plot per expected figure."""

from __future__ import annotations

import json
import re
import sys
from html import escape
from pathlib import Path

import pytest
from report_store import EVIL, EXPECTED_PLOTS

from rlnas.errors import UserError
from rlnas.report import load_runs, render_report, write_report
from rlnas.report.figures import pareto
from rlnas.space import Choice, SearchSpace
from rlnas.store import Store
from rlnas.trial import Status, Trial


@pytest.fixture(scope="module")
def html(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    output = tmp_path_factory.mktemp("html") / "report.html"
    write_report(store_path, output)
    return output.read_text()


def test_the_report_is_self_contained(html: str) -> None:
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref\s*=", html, re.IGNORECASE)
    assert "Plotly.newPlot" in html and len(html) > 1_000_000  # plotly.js is inlined


def test_every_figure_gets_a_plot(html: str) -> None:
    assert html.count('<div class="plot"') == EXPECTED_PLOTS


def test_user_strings_are_escaped_everywhere(html: str) -> None:
    assert EVIL not in html
    assert escape(EVIL) in html  # tables and headings
    assert "\\u0026lt;script\\u0026gt;" in html  # inside plotly's JSON: escaped for plotly too
    assert "<b>friends</b>" not in html and "<i>pool</i>" not in html
    assert "ValueError: <boom>" not in html


def test_figure_json_cannot_close_its_script_element(html: str) -> None:
    for script in re.findall(r"<script>(.*?)</script>", html, re.DOTALL):
        assert "<" not in script and ">" not in script.replace("=>", "")


def test_a_report_without_diagnostics_says_so(store_path: Path) -> None:
    runs = [run for run in load_runs(store_path) if run.name == EVIL]
    page = render_report(runs)
    assert "No strategy reported diagnostics" in page
    assert page.count('<div class="plot"') == 2 + 2


def test_runs_follow_the_names_given_and_their_incumbents_never_drop(store_path: Path) -> None:
    runs = load_runs(store_path, ["ppo-synthetic", EVIL, "ppo-synthetic"])
    assert [run.name for run in runs] == ["ppo-synthetic", EVIL]
    for run in runs:
        bests = [best for _, best in run.incumbents()]
        rewards = [trial.reward for trial, _ in run.incumbents()]
        assert bests == [max(rewards[: i + 1]) for i in range(len(rewards))]


def test_the_pareto_front_holds_exactly_the_undominated_trials(store_path: Path) -> None:
    (run,) = load_runs(store_path, [EVIL])
    figure = json.loads(pareto([run], "params").to_json())
    front = next(trace for trace in figure["data"] if trace["name"].endswith("front"))
    points = [(t.metrics["validation"], t.metrics["params"]) for t in run.complete]
    expected = {
        (m, c)
        for m, c in points
        if not any(m2 >= m and c2 <= c and (m2, c2) != (m, c) for m2, c2 in points)
    }
    assert set(zip(front["y"], front["x"])) == expected
    assert front["x"] == sorted(front["x"])


def test_odd_diagnostics_and_empty_experiments_still_give_a_report(tmp_path: Path) -> None:
    space = SearchSpace([Choice("a", [1, 2])])
    with Store(tmp_path / "odd.db") as store:
        store.create_experiment("empty", {"space": "custom"}, seed=0)
        odd = store.create_experiment("odd", {"space": "custom", "metric": "accuracy"}, seed=0)
        trial = Trial(0, space.architecture({"a": 1}), {}, None, Status.FAILED, "boom")
        diagnostics = {"entropy": 0.5, "probabilities": {"a": "?"}, "baseline": "high"}
        store.record_trial(odd, trial, diagnostics=diagnostics)
    page = render_report(load_runs(tmp_path / "odd.db"))
    assert page.count("No trial completed") == 2
    assert page.count('<div class="plot"') == 2 + 1  # only the scalar entropy is drawable
    assert "policy entropy" in page


def test_without_plotly_the_report_says_what_to_install(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "plotly.offline", None)  # importing it now fails
    with pytest.raises(UserError, match=r"pip install 'rlnas\[report\]'"):
        render_report(load_runs(store_path))
