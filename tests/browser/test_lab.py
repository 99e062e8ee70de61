"""A learner's session in a real browser: start page, every segment run top to bottom, each explorer's main
slider moved with the keyboard (timed against a plain ``interact``), one exercise answered right and
one wrong.

Serial and self-contained (one JupyterLab, one Chromium page); timings are printed and written to
``test-artifacts/browser/latency.json``, never asserted.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import record_latency, release_segments
from tests.browser.jupyterlab import RunReport, answer, press_slider

SEGMENTS = release_segments()
PRESSES = 10
"""Key presses per slider."""
FLOOR_PRESSES = 30
"""Key presses on the text-only sliders (cheap; the Nagle stalls are intermittent, so more samples)."""

EXPLORER_CALL = re.compile(r"\b\w+_explorer\(")


def test_start_page_links_each_segment(lab):
    """The start page lists every segment with a link; following one opens the learner's copy."""
    if not (lab.server.root / "START.ipynb").exists():
        pytest.skip("no START.ipynb in the workspace (course.workspace.prepare not available)")
    lab.open_notebook("START.ipynb")
    links = lab.page.locator(f"{lab.panel_selector()} .jp-RenderedHTMLCommon a[href*='.ipynb']")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    missing = [s for s in SEGMENTS if not any(f"{s}.ipynb" in (h or "") for h in hrefs)]
    assert not missing, f"start page has no link to {missing}; links: {hrefs}"
    first = SEGMENTS[0]
    links.nth(next(i for i, h in enumerate(hrefs) if f"{first}.ipynb" in (h or ""))).click()
    lab.wait_for_notebook(f"{first}.ipynb")
    lab.close_current()


def test_interact_baseline(lab, artifacts):
    """A plain ``interact`` that rebuilds a matplotlib figure (inline backend), timed the same way."""
    notebook = {
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": (
            "%matplotlib inline\n"
            "import ipywidgets as widgets\n"
            "import matplotlib.pyplot as plt\n"
            "from course.segments.batch_size import plot, view\n\n"
            "@widgets.interact(batch=widgets.FloatLogSlider(value=256, base=2, min=0, max=14, step=0.25))\n"
            "def show(batch):\n"
            "    values = {'batch': batch, 'active_fraction': 37 / 671, 'context_tokens': 1024, 'price': 2.0,\n"
            "              'chip': 'h100'}\n"
            "    figure, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout='constrained')\n"
            "    plot.draw(list(axes), view.view(values))\n"
            "    plt.show()\n")}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    lab.server.api("contents/scratch-interact.ipynb", "PUT", {"type": "notebook", "content": notebook})
    with lab.notebook("scratch-interact.ipynb", artifacts):
        lab.run_all(RunReport())
        output = lab.cell_locator(0).locator(".jp-OutputArea").first
        output.locator("img").first.wait_for(state="attached", timeout=60_000)
        run = press_slider(lab.page, output, PRESSES, interact=True)
        output.screenshot(path=str(artifacts / "interact-baseline.png"))
        record_latency("interact (segment 1 figure, rebuilt)", "interact", run.latencies_ms)
        assert run.latencies_ms, "the interact figure never changed"


ECHO_SOURCE = ("import ipywidgets as widgets\n"
               "slider = widgets.FloatSlider(min=0, max=100, step=1)\n"
               "echo = widgets.HTML('-')\n"
               "echo.add_class('course-explorer-readout')\n"
               "slider.observe(lambda change: setattr(echo, 'value', f'value {change.new}'), names='value')\n"
               "widgets.VBox([slider, echo])\n")


def echo_floor(lab, artifacts, name: str, kind: str) -> None:
    """Key press to changed text on a slider whose observer copies its value into an HTML widget."""
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                           "source": ECHO_SOURCE}],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                            "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    lab.server.api("contents/scratch-echo.ipynb", "PUT", {"type": "notebook", "content": notebook})
    with lab.notebook("scratch-echo.ipynb", artifacts):
        lab.run_all(RunReport())
        output = lab.cell_locator(0).locator(".jp-OutputArea").first
        output.locator(".course-explorer-readout").wait_for(timeout=60_000)
        run = press_slider(lab.page, output, FLOOR_PRESSES, readout_only=True)
        record_latency(name, kind, run.latencies_ms)
        assert run.latencies_ms, "the echo never arrived"


def test_round_trip_floor(lab, artifacts):
    """What any slider costs here before drawing anything (the floor under every figure timing), in the
    learner's lab (TCP_NODELAY on kernel websockets)."""
    echo_floor(lab, artifacts, "echo slider -> HTML (no figure)", "floor")


def test_round_trip_floor_on_stock_websockets(stock_lab, artifacts):
    """The same floor on a second server with jupyter_server's stock kernel websocket connection (no
    TCP_NODELAY), side by side in this run: what course.server saves."""
    echo_floor(stock_lab, artifacts, "echo slider -> HTML, stock websocket", "floor-stock")


@pytest.mark.parametrize("segment", SEGMENTS)
def test_segment_runs_and_explorers_respond(lab, artifacts, segment):
    """Run ▸ Run All Cells on the unanswered notebook runs every cell, with no error output, to the
    flashcards at the end; then each explorer's main slider, moved with the keyboard, replaces the figure
    and changes the readout."""
    with lab.notebook(f"{segment}.ipynb", artifacts):
        report = RunReport()
        lab.run_all(report)
        cells = lab.cells()
        errors = [(c.index, c.grade_id, [f"{e['ename']}: {e['evalue']}" for e in c.errors]) for c in cells if c.errors]
        assert not errors, f"cells with error output on an unanswered notebook: {errors}"
        assert report.rounds == 1 + report.restarts, f"Run All stopped before the end ({report})"
        not_run = [c.index for c in cells if c.type == "code" and c.source.strip() and c.count is None]
        assert not not_run, f"cells that never ran: {not_run} ({report})"
        lab.page.locator(f"{lab.panel_selector()} .course-flashcards").first.wait_for(state="attached")

        wanted = sum(1 for c in cells if c.type == "code" and EXPLORER_CALL.search(c.source))
        explorers = lab.explorers()
        assert explorers.count() == wanted, f"{wanted} explorer cells but {explorers.count()} explorers shown"
        for k in range(explorers.count()):
            root = explorers.nth(k)
            root.locator("img.course-explorer-figure").wait_for(state="visible")
            first_src = root.locator("img.course-explorer-figure").get_attribute("src")
            run = press_slider(lab.page, root, PRESSES)
            name = f"{segment}" + (f" #{k + 1}" if explorers.count() > 1 else "")
            record_latency(name, "explorer", run.latencies_ms, no_change=run.no_change, values=run.values,
                           run_seconds=round(report.seconds, 1), kernel_restarts=report.restarts)
            root.screenshot(path=str(artifacts / f"{segment}-explorer{'' if k == 0 else f'-{k + 1}'}.png"))
            assert run.latencies_ms, f"{name}: the figure never changed over {PRESSES} key presses ({run.values})"
            assert root.locator("img.course-explorer-figure").get_attribute("src") != first_src
            assert run.readout_changed, f"{name}: the readout did not change ({run.values})"


def test_exercise_answered_right_and_wrong(lab, artifacts):
    """Typed into segment 1's answer cells: a right answer gets '✓ <variable>: correct', a wrong one
    '✗ <variable>: not yet right. <hint>'."""
    from course.segments.batch_size import checks

    segment = next((s for s in SEGMENTS if s.startswith("01-")), None)
    if segment is None:
        pytest.skip("no segment 1 in release/")
    with lab.notebook(f"{segment}.ipynb", artifacts):
        by_id = {c.grade_id: c for c in lab.cells() if c.grade_id}
        right = checks.CRITICAL_BATCH_QUARTER
        wrong = checks.DEEPSEEK_LECTURE_CRITICAL_BATCH
        verdict = answer(lab, by_id["ex1-solution"].index, f"{right.variable} = {float(right.expected())!r}")
        assert any(line.startswith(f"✓ {right.variable}: correct") for line in verdict), verdict
        verdict = answer(lab, by_id["ex2-solution"].index, f"{wrong.variable} = {2 * float(wrong.expected())!r}")
        line = next((line for line in verdict if line.startswith(f"✗ {wrong.variable}: ")), None)
        assert line is not None, verdict
        assert line.lower().startswith(f"✗ {wrong.variable}: not yet right. ") and len(line) > 60, line
