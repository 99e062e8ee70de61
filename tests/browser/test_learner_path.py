"""The learner's path in a real browser: the printed URL lands on a clean START page without Validate,
the in-notebook full check marks right and wrong exercises, and a course update reaches the learner
without losing an answer.

Runs after test_lab.py on the same JupyterLab (started as `make lab` starts it) and Chromium page.
"""

from __future__ import annotations

import datetime
import json
import re
import urllib.parse

from course import workspace
from tests.browser.jupyterlab import RunReport, answer

SEGMENT_1 = "01-batch-size"
GRADER_CHECK_CELL = "from course.widgets.grader_check import grader_check\ngrader_check()"


def validate_buttons(lab) -> int:
    """nbgrader's Validate button in the current notebook's toolbar (its label or its command)."""
    toolbar = lab.page.locator(f"{lab.panel_selector()} .jp-Toolbar")
    return toolbar.locator("text=Validate").count() + toolbar.locator("[data-command*='validate']").count()


def test_printed_url_lands_on_a_clean_start_page_without_validate(lab):
    """The URL the server printed (what the `lab` fixture opened) shows START.ipynb, not the Launcher; it
    is not marked unsaved once its kernel is up, and nbgrader's Validate button is not there."""
    printed = urllib.parse.urlsplit(lab.server.printed_url)
    assert printed.path == "/lab/tree/START.ipynb", lab.server.printed_url
    assert lab.state()["title"] == "START.ipynb"
    assert lab.page.locator(".jp-Launcher").count() == 0
    lab.page.wait_for_timeout(1500)  # the kernel's info has arrived (idle); give the model a moment to change
    assert lab.page.evaluate("() => jupyterapp.shell.currentWidget.context.model.dirty") is False
    assert validate_buttons(lab) == 0
    assert "points" in lab.page.locator(f"{lab.panel_selector()} .jp-OutputArea-output").first.inner_text()


def test_the_page_the_lab_opens_lands_on_start(lab):
    """`make lab` opens the browser on the file the server printed ("open this file in a browser"); that
    page leads to START.ipynb as well."""
    found = re.search(r"file://\S+-open\.html", lab.server.log.read_text(errors="replace"))
    assert found, lab.server.log_tail()
    page = lab.page.context.new_page()
    try:
        page.goto(found.group(0))
        page.wait_for_url(re.compile(r"/lab/tree/START\.ipynb"), timeout=30_000)
        page.wait_for_function("() => window.jupyterapp && jupyterapp.shell.currentWidget && "
                               "jupyterapp.shell.currentWidget.title.label === 'START.ipynb'", timeout=60_000)
    finally:
        page.close()


def grader_check_notebook(lab) -> str:
    """The learner's copy of segment 1, with the grader-check cell at its end: the release carries it; were
    it missing, the test appends it (as the segment notebooks carry it)."""
    name = f"{SEGMENT_1}.ipynb"
    data = lab.server.api(f"contents/{name}")["content"]
    if not any("grader_check(" in "".join(c["source"]) for c in data["cells"]):
        data["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                              "source": GRADER_CHECK_CELL})
        lab.server.api(f"contents/{name}", "PUT", {"type": "notebook", "content": data})
    return name


def test_grader_check_marks_right_and_wrong_exercises(lab, artifacts):
    """In the learner's copy of segment 1, answers typed (not saved) in the browser, one right and one wrong;
    a click on "Check my notebook against the grader" saves the notebook, runs the full check, and shows ✓
    for the right one, ✗ and a hint for the wrong one, and never the expected value."""
    from course.segments.batch_size import checks

    name = grader_check_notebook(lab)
    with lab.notebook(name, artifacts):
        lab.run_all(RunReport())
        by_id = {c.grade_id: c for c in lab.cells() if c.grade_id}
        right, wrong = checks.CRITICAL_BATCH_QUARTER, checks.DEEPSEEK_LECTURE_CRITICAL_BATCH
        answer(lab, by_id["ex1-solution"].index, f"{right.variable} = {float(right.expected())!r}")
        answer(lab, by_id["ex2-solution"].index, f"{wrong.variable} = {2 * float(wrong.expected())!r}")
        assert lab.page.evaluate("() => jupyterapp.shell.currentWidget.context.model.dirty") is True

        control = lab.page.locator(f"{lab.panel_selector()} .course-grader-check")
        control.scroll_into_view_if_needed()
        control.locator("button").click()
        lab.page.wait_for_function(
            "(root) => root.querySelector('.course-grader-right, .course-grader-wrong') !== null || "
            "root.innerText.includes('failed')", arg=control.element_handle(), timeout=300_000)
        control.screenshot(path=str(artifacts / "grader-check.png"))
        assert lab.page.evaluate("() => jupyterapp.shell.currentWidget.context.model.dirty") is False
        rows = {row.locator("td").nth(1).inner_text().split()[0]: row.inner_text()
                for row in control.locator("tr.course-grader-right, tr.course-grader-wrong").all()}
        tests = [c.grade_id for c in lab.cells() if (c.nbgrader or {}).get("grade") and c.type == "code"
                 and not c.nbgrader.get("solution")]
        shown = control.inner_text()
        assert all(grade_id in shown for grade_id in tests), shown
        assert rows[right.variable].startswith("✓"), rows
        assert rows[wrong.variable].startswith("✗") and "not yet right" in rows[wrong.variable].lower(), rows
        hints = " ".join(row.locator("td").last.inner_text()
                         for row in control.locator("tr.course-grader-right, tr.course-grader-wrong").all())
        for exercise in (right, wrong):
            value = float(exercise.expected())
            assert f"{value:g}" not in hints and f"{value:,.0f}" not in hints, hints


def test_course_update_reaches_the_learner_beside_their_copy(lab, artifacts, course_release):
    """The learner answers in segment 1 and saves; the course's segment 1 changes and `make lab` runs
    again: START says a newer version exists; running its cell and clicking the button writes
    "01-batch-size (updated YYYY-MM).ipynb" with the learner's answer, and the old copy keeps it too."""
    from course.segments.batch_size import checks

    exercise = checks.CRITICAL_BATCH_QUARTER
    typed = f"{exercise.variable} = 1234"
    lab.open_notebook("START.ipynb")  # close the START page of this session: `make lab` will rewrite it
    lab.close_current()
    with lab.notebook(f"{SEGMENT_1}.ipynb", artifacts):
        by_id = {c.grade_id: c for c in lab.cells() if c.grade_id}
        answer(lab, by_id["ex1-solution"].index, typed)
        lab.page.keyboard.press("Control+s")
        lab.page.wait_for_function("() => !jupyterapp.shell.currentWidget.context.model.dirty", timeout=20_000)
    mine = lab.server.root / f"{SEGMENT_1}.ipynb"
    assert typed in mine.read_text()

    release = course_release / SEGMENT_1 / f"{SEGMENT_1}.ipynb"
    data = json.loads(release.read_text())
    first = next(c for c in data["cells"] if c["cell_type"] == "markdown")
    first["source"] = "".join(first["source"]) + "\n\n*Revised for this test.*"
    release.write_text(json.dumps(data))
    workspace.prepare(lab.server.root, course_release)  # what the next `make lab` does

    lab.open_notebook("START.ipynb")
    panel = lab.panel_selector()
    lab.page.wait_for_function(
        "(sel) => document.querySelector(sel).innerText.includes('newer version')", arg=panel, timeout=30_000)
    lab.select_cell(1)
    lab.menu("Run", "Run Selected Cell")
    button = lab.page.locator(f"{panel} .course-update button, {panel} button.course-update").first
    button.wait_for(timeout=60_000)
    button.click()
    lab.page.wait_for_function(
        "(sel) => document.querySelector(sel).innerText.includes('new version of segment 01')", arg=panel,
        timeout=60_000)
    lab.page.screenshot(path=str(artifacts / "course-update.png"))

    updated = sorted(lab.server.root.glob(f"{SEGMENT_1} (updated *).ipynb"))
    assert [p.name for p in updated] == [f"{SEGMENT_1} (updated {workspace_month()}).ipynb"]
    new = json.loads(updated[0].read_text())
    assert any("Revised for this test" in "".join(c["source"]) for c in new["cells"])
    solution = next(c for c in new["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "ex1-solution")
    assert "".join(solution["source"]) == typed
    assert typed in mine.read_text() and "Revised for this test" not in mine.read_text()
    lab.close_current()


def workspace_month() -> str:
    return f"{datetime.datetime.now().astimezone():%Y-%m}"
