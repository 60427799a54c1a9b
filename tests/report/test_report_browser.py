"""The report in headless Chromium: it loads offline, draws every plot, and runs no user string.

Uses Debian's chromium (``.ci/install-browser``) through playwright, never a downloaded browser.
Skipped where chromium is absent, except in CI (``CI`` set), where its absence is a failure.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from report_store import EVIL, EXPECTED_PLOTS

from rlnas.report import write_report

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EVERY_PLOT_DRAWN = """(expected) => {
    const plots = Array.from(document.querySelectorAll("div.plot"));
    return plots.length === expected && plots.every(
        (plot) => plot.classList.contains("js-plotly-plot")
            && plot.querySelector(".main-svg .trace, .main-svg image"));  // lines or heat maps
}"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: run .ci/install-browser first")
        pytest.skip(
            f"{CHROMIUM} is not installed (apt-get install chromium, or .ci/install-browser)"
        )
    if os.environ.get("CI"):
        from playwright import sync_api  # in CI a missing playwright is a failure too
    else:
        sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def test_report_renders_offline_with_every_plot_and_no_script_from_names(
    browser, store_path: Path, tmp_path: Path
) -> None:
    report = write_report(store_path, tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))
    started = time.monotonic()
    page.goto(report.as_uri(), wait_until="load")
    page.wait_for_function(EVERY_PLOT_DRAWN, arg=EXPECTED_PLOTS, timeout=15_000)

    screenshot = tmp_path / "report.png"
    page.screenshot(path=str(screenshot), full_page=True)
    if os.environ.get("RLNAS_ARTIFACTS"):
        artifacts = Path(os.environ["RLNAS_ARTIFACTS"])
        artifacts.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, artifacts / "report.png")

    assert errors == []
    assert dialogs == []  # <script>alert(1)</script> never ran
    assert [url for url in requests if not url.startswith("file:")] == []  # fully offline
    text = page.inner_text("body")
    assert EVIL in text and "q-learning & <b>friends</b>" in text
    # plotly draws legends and subplot titles from HTML-like strings: the names stay literal
    legends = page.eval_on_selector_all(".legendtext", "nodes => nodes.map(n => n.textContent)")
    assert f"{EVIL}: incumbent" in legends
    titles = page.eval_on_selector_all(".annotation-text", "nodes => nodes.map(n => n.textContent)")
    assert "layer<1>" in titles and "width 'w'" in titles
    ticks = page.eval_on_selector_all(".ytick text", "nodes => nodes.map(n => n.textContent)")
    assert "0-1-2-3" in ticks  # NAS-Bench-Graph options are named on the heat maps
    assert page.locator("svg.architecture").count() == 3
    assert screenshot.stat().st_size > 50_000
    assert time.monotonic() - started < 20


def test_a_trained_search_s_top_ten_fits_a_1400_px_window(browser, tmp_path: Path) -> None:
    """Ten chain-cnn networks with every metric a training search stores: nothing is cut off."""
    from rlnas.space.models import model_space
    from rlnas.store import Store
    from rlnas.trial import Trial

    space = model_space("chain-cnn", (1, 8, 8))
    rng = __import__("numpy").random.default_rng(0)
    path = tmp_path / "runs.db"
    with Store(path) as store:
        config = {"space": "chain-cnn", "strategy": "ppo", "metric": "accuracy"}
        experiment = store.create_experiment("trained", config, seed=0)
        for number in range(12):
            metrics = {"accuracy": 0.9 + number / 1000, "params": 12345.0 * (number + 1)}
            metrics |= {"flops": 1234567.0 * (number + 1), "latency_ms": 0.22578, "epochs": 5.0}
            metrics |= {"train_time_s": 1.2345, "estimator_s": 1.3}
            trial = Trial(number, space.sample(rng), metrics, metrics["accuracy"])
            store.record_trial(experiment, trial)
    report = write_report(path, tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(report.as_uri(), wait_until="load")
    widths = page.eval_on_selector_all(
        "table", "tables => tables.map(t => t.getBoundingClientRect().right)"
    )
    assert widths and max(widths) <= 1400, widths
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    header = page.inner_text("table:last-of-type thead")
    assert "flops" in header and "latency" in header and "training" in header
    page.screenshot(path=str(tmp_path / "top.png"), full_page=True)
    if os.environ.get("RLNAS_ARTIFACTS"):
        shutil.copy(tmp_path / "top.png", Path(os.environ["RLNAS_ARTIFACTS"]) / "top.png")
