"""The learner's side: own copies, start page, progress from self-checks, flashcards, lab set-up."""

from __future__ import annotations

import datetime
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course import flashcards, lab, progress, workspace
from course.segments.batch_size import checks as batch_size
from course.segments import SEGMENTS
from course.widgets.flashcards import FlashcardReview


RELEASE_01 = workspace.RELEASE / "01-batch-size" / "01-batch-size.ipynb"


def notebook(cells: list[dict]) -> dict:
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def code(source: str, **nbgrader) -> dict:
    return {"cell_type": "code", "metadata": {"nbgrader": nbgrader} if nbgrader else {}, "source": source,
            "outputs": [], "execution_count": None}


@pytest.fixture()
def fake_release(tmp_path):
    """A release folder with segment 1's notebook only (the real one)."""
    release = tmp_path / "release"
    (release / "01-batch-size").mkdir(parents=True)
    shutil.copyfile(RELEASE_01, release / "01-batch-size" / "01-batch-size.ipynb")
    return release


def edit_release(release, change) -> None:
    """Apply ``change(notebook)`` to the fake release's segment-1 notebook, as a course update would."""
    path = release / "01-batch-size" / "01-batch-size.ipynb"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def solution_cell(data: dict, grade_id: str) -> dict:
    return next(c for c in data["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def test_copies_are_created_once_and_never_overwritten(tmp_path, fake_release):
    """A learner's answers survive a later `make lab` and a regenerated release/."""
    work = tmp_path / "my-work"
    assert [p.name for p in workspace.prepare(work, fake_release)] == ["01-batch-size.ipynb"]
    mine = json.loads((work / "01-batch-size.ipynb").read_text())
    solution_cell(mine, "ex1-solution")["source"] = "critical_batch_quarter = 1200"
    (work / "01-batch-size.ipynb").write_text(json.dumps(mine))
    edit_release(fake_release, lambda data: data["cells"][0].update(source="# A rewritten title"))
    assert workspace.prepare(work, fake_release) == []
    assert json.loads((work / "01-batch-size.ipynb").read_text()) == mine
    assert sorted(p.name for p in work.glob("*.ipynb")) == ["01-batch-size.ipynb", "START.ipynb"]


def test_copies_and_start_page_carry_this_kernels_language_info(tmp_path, fake_release):
    """JupyterLab marks a notebook unsaved on open when its language_info differs from what the kernel
    reports; the copies and START carry what this environment's ipykernel reports."""
    from ipykernel.ipkernel import IPythonKernel

    reported = IPythonKernel.language_info  # ipykernel's own declaration, not course code
    work = tmp_path / "my-work"
    workspace.prepare(work, fake_release)
    for name in ("01-batch-size.ipynb", workspace.START_PAGE):
        info = json.loads((work / name).read_text())["metadata"]["language_info"]
        assert {k: info[k] for k in reported if k != "version"} == {k: v for k, v in reported.items()
                                                                     if k != "version"}
        assert info["version"] == sys.version.split()[0]


def release_points(path) -> tuple[float, dict[str, float]]:
    """Total points of a release notebook, and the points of each autograded test cell by its source."""
    cells = json.loads(path.read_text())["cells"]
    graded = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade")]
    total = sum(c["metadata"]["nbgrader"]["points"] for c in graded)
    return total, {"".join(c["source"]): c["metadata"]["nbgrader"]["points"] for c in graded
                   if c["cell_type"] == "code" and not c["metadata"]["nbgrader"].get("solution")}


def test_start_page_counts_points_like_the_grader(tmp_path, fake_release):
    """The start page names all seven segments, links the present copies and shows "x / N points", N the
    sum of the grade cells' nbgrader points, x those of the exercises whose last check passed."""
    work = tmp_path / "my-work"
    progress.record("critical_batch_quarter", True, work / workspace.PROGRESS_FILE)
    progress.record("cost_per_million_tokens_usd", True, work / workspace.PROGRESS_FILE)
    progress.record("rubin_drain_time_s", False, work / workspace.PROGRESS_FILE)
    workspace.prepare(work, fake_release)
    page = json.loads((work / workspace.START_PAGE).read_text())
    table = page["cells"][1]["outputs"][0]["data"]["text/html"]
    for segment in SEGMENTS:
        assert html.escape(segment.title) in table
    assert 'href="01-batch-size.ipynb"' in table
    total, by_source = release_points(RELEASE_01)
    earned = sum(points for source, points in by_source.items()
                 if "(critical_batch_quarter)" in source or "(cost_per_million_tokens_usd)" in source)
    assert earned >= 2
    assert f"{earned:g} / {total:g} points" in table
    assert f"2 of {len(by_source)} exercises right" in table


@pytest.mark.parametrize("segment", SEGMENTS, ids=lambda s: s.assignment)
def test_every_exercise_is_worth_the_points_of_its_grade_cell(segment):
    """Each release notebook's test cell checks one of the segment's exercises, no exercise twice, and the
    points add up to what the grader can award."""
    path = workspace.release_notebook(segment)
    points = workspace.segment_points(segment)
    variables = [e.variable for e in segment.exercises()]
    total, by_source = release_points(path)
    assert set(points.by_variable) <= set(variables) and len(points.by_variable) == len(by_source)
    assert points.total == total
    for source, cell_points in by_source.items():
        named = [v for v in variables if f"({v})" in source]
        assert len(named) == 1, source
        assert points.by_variable[named[0]] == cell_points


def test_points_refuse_a_test_cell_that_names_no_exercise():
    """A grade cell that checks no exercise variable is an error naming the notebook."""
    nb = notebook([code("assert 1 == 1", grade=True, grade_id="t", points=2)])
    with pytest.raises(ValueError, match="my.ipynb.*'t'"):
        progress.segment_points(nb, ["answer"], "my.ipynb")
    nb = notebook([code("check(answer)", grade=True, grade_id="t", points=2),
                   code("YOUR ANSWER", grade=True, solution=True, grade_id="w", points=3)])
    points = progress.segment_points(nb, ["answer", "answer_2"], "my.ipynb")
    assert (points.by_variable, points.manual, points.total) == ({"answer": 2.0}, 3.0, 5.0)
    assert points.earned({"answer": True}) == 2.0 and points.earned({"answer": False}) == 0.0


def test_regenerated_release_without_changes_is_not_an_update(tmp_path, fake_release):
    """New outputs or widget state in release/ do not count as a course update; a changed cell does."""
    work = tmp_path / "my-work"
    workspace.prepare(work, fake_release)
    edit_release(fake_release, lambda data: (data["metadata"].pop("widgets", None),
                                             [c.update(outputs=[]) for c in data["cells"] if c["cell_type"] == "code"]))
    assert workspace.outdated_segments(work, fake_release) == []
    assert workspace.update(work, fake_release) == []
    edit_release(fake_release, lambda data: data["cells"][0].update(source="# A rewritten title"))
    assert [s.assignment for s in workspace.outdated_segments(work, fake_release)] == ["01-batch-size"]


def test_update_puts_the_new_version_beside_the_old_with_the_answers(tmp_path, fake_release):
    """An updated release: START says so; update writes "01-batch-size (updated YYYY-MM).ipynb" with the
    learner's answers where the grade_ids still match, leaves the old copy alone, and clears the notice."""
    work = tmp_path / "my-work"
    workspace.prepare(work, fake_release)
    mine_path = work / "01-batch-size.ipynb"
    mine = json.loads(mine_path.read_text())
    solution_cell(mine, "ex1-solution")["source"] = "critical_batch_quarter = 1200"
    solution_cell(mine, "ex3-solution")["source"] = "rubin_drain_time_s = 0.0144"
    mine_path.write_text(json.dumps(mine))
    before = mine_path.read_bytes()

    def course_update(data):
        data["cells"][0]["source"] = "# Segment 1, revised"
        solution_cell(data, "ex3-solution")["metadata"]["nbgrader"]["grade_id"] = "ex3-solution-v2"
    edit_release(fake_release, course_update)
    workspace.prepare(work, fake_release)
    start = (work / workspace.START_PAGE).read_text()
    assert "newer version" in start and workspace.UPDATE_COMMAND in start

    now = datetime.datetime(2026, 12, 6, tzinfo=datetime.timezone.utc)
    (done,) = workspace.update(work, fake_release, now=now)
    assert done.new.name == "01-batch-size (updated 2026-12).ipynb"
    assert (done.kept, done.left) == (("ex1-solution",), ("ex3-solution",))
    assert mine_path.read_bytes() == before
    new = json.loads(done.new.read_text())
    assert new["cells"][0]["source"] == "# Segment 1, revised"
    assert solution_cell(new, "ex1-solution")["source"] == "critical_batch_quarter = 1200"
    release = json.loads((fake_release / "01-batch-size" / "01-batch-size.ipynb").read_text())
    for grade_id in ("ex2-solution", "ex3-solution-v2"):  # unanswered or moved: the new version's placeholder
        assert solution_cell(new, grade_id)["source"] == solution_cell(release, grade_id)["source"]

    assert workspace.outdated_segments(work, fake_release) == []
    workspace.prepare(work, fake_release)
    start = json.loads((work / workspace.START_PAGE).read_text())["cells"][1]["outputs"][0]["data"]["text/html"]
    assert "newer version" not in start and 'href="01-batch-size%20%28updated%202026-12%29.ipynb"' in start

    edit_release(fake_release, lambda data: data["cells"][0].update(source="# Segment 1, revised again"))
    (again,) = workspace.update(work, fake_release, now=now)
    assert again.old == done.new and again.new.name == "01-batch-size (updated 2026-12, 2).ipynb"
    assert solution_cell(json.loads(again.new.read_text()), "ex1-solution")["source"] == "critical_batch_quarter = 1200"


def test_update_command_line(tmp_path, fake_release, monkeypatch, capsys):
    """`python -m course.lab update --workspace DIR` reports what it did, and that nothing is left to do."""
    work = tmp_path / "my-work"
    workspace.prepare(work, fake_release)
    monkeypatch.setattr(workspace, "RELEASE", fake_release)
    monkeypatch.setattr(workspace.update, "__defaults__", (fake_release, None))
    monkeypatch.setattr(workspace.write_start_page, "__defaults__", (fake_release,))
    edit_release(fake_release, lambda data: data["cells"][0].update(source="# new"))
    assert lab.main(["update", "--workspace", str(work)]) == 0
    assert "new version of segment 01: 01-batch-size (updated" in capsys.readouterr().out
    assert lab.main(["update", "--workspace", str(work)]) == 0
    assert "up to date" in capsys.readouterr().out


def test_legacy_copy_without_a_stamp_is_compared_by_its_course_cells(tmp_path, fake_release):
    """A copy made before copies were stamped is outdated only when a cell the course wrote differs."""
    work = tmp_path / "my-work"
    work.mkdir()
    shutil.copyfile(RELEASE_01, work / "01-batch-size.ipynb")
    assert workspace.outdated_segments(work, fake_release) == []
    edit_release(fake_release, lambda data: data["cells"][0].update(source="# new"))
    assert [s.number for s in workspace.outdated_segments(work, fake_release)] == ["01"]


@pytest.mark.parametrize("source, unanswered", [
    ("# YOUR CODE HERE\nraise NotImplementedError()", True), ("critical_batch = ...", True),
    ("YOUR ANSWER HERE", True), ("", True), ("critical_batch = 1200", False),
    ("# my note\ncritical_batch = ...\ncritical_batch = 3", False)])
def test_placeholders_are_not_carried_as_answers(source, unanswered):
    assert workspace.is_unanswered(source) is unanswered


def test_visible_check_prints_verdict_and_records_progress(tmp_path, monkeypatch, capsys):
    """Running an exercise's check cell tells the learner at once and remembers it for the start page."""
    store = tmp_path / "progress.json"
    monkeypatch.setenv(progress.ENV_VAR, str(store))
    batch_size.CRITICAL_BATCH_QUARTER.check(1200)
    batch_size.RUBIN_DRAIN_TIME_S.check(14.4)
    out = capsys.readouterr().out
    assert "✓ critical_batch_quarter: correct." in out
    assert "✗ rubin_drain_time_s: not yet right." in out and "units" in out
    assert progress.load(store) == {"critical_batch_quarter": True, "rubin_drain_time_s": False}


def test_no_progress_is_written_outside_a_learner_lab(monkeypatch, tmp_path):
    """Without the lab's environment variable (grading, tests) nothing is recorded."""
    monkeypatch.delenv(progress.ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    batch_size.CRITICAL_BATCH_QUARTER.check(1200)
    assert list(tmp_path.iterdir()) == []


def test_every_segment_has_cards_and_variables_are_unique():
    """Each segment ends with a review of its own cards; progress keys (variables) are unique course-wide."""
    for segment in SEGMENTS:
        assert flashcards.cards_for(segment.number), segment.assignment
    variables = [e.variable for s in SEGMENTS for e in s.exercises()]
    assert len(variables) == len(set(variables))


def test_leitner_schedule_promotes_demotes_and_spaces_cards():
    """Known cards move up a box and come back later; forgotten cards go back to box 1."""
    schedule = flashcards.LeitnerSchedule().next_session()
    schedule = schedule.answer("a", knew_it=True).answer("b", knew_it=False)
    assert (schedule.box("a"), schedule.box("b")) == (2, 1)
    schedule = schedule.next_session()
    assert schedule.is_due("b") and not schedule.is_due("a")
    assert schedule.next_session().is_due("a")


def test_review_widget_remembers_across_sessions(tmp_path):
    """Answers are saved; a reopened review (a new session) no longer shows the card known last time."""
    path = tmp_path / "cards.json"
    review = FlashcardReview("01", schedule_path=path)
    first = review.current
    review.reveal()
    assert html.escape(first.answer, quote=False) in review.card_html.value
    review.answer(True)
    reopened = FlashcardReview("01", schedule_path=path)
    assert first.key not in [card.key for card in reopened.queue]
    assert flashcards.load_schedule(path).box(first.key) == 2


def test_card_formulas_are_typeset_and_the_box_is_explained(tmp_path):
    """Cards write formulas as $...$, shown in an HTMLMath widget (MathJax); one line says what a box means."""
    import ipywidgets

    with_math = [card for card in flashcards.CARDS if "$" in card.answer]
    assert len(with_math) >= 5
    for card in flashcards.CARDS:
        assert (card.question + card.answer).count("$") % 2 == 0, card.key
    review = FlashcardReview(with_math[0].segment, schedule_path=tmp_path / "cards.json")
    while review.current.key != with_math[0].key:
        review.answer(True)
    review.reveal()
    assert isinstance(review.card_html, ipywidgets.HTMLMath)
    assert re.search(r"\$[^$<]+\$", review.card_html.value), review.card_html.value
    shown = " ".join(child.value for child in review.widget.children if hasattr(child, "value"))
    assert "box 1" in shown.lower() and "this session" in shown and "less often" in shown
    assert "in box 1 of" in review.status.value


def test_anki_export_writes_where_the_learner_says_never_the_repository_root(tmp_path, capsys):
    """Default: the workspace; a relative name: inside the workspace; an absolute path: there; the
    repository root: refused with a message. Formulas become Anki's \\(...\\)."""
    import zipfile

    work = tmp_path / "my-work"
    assert flashcards.main(["export", "--workspace", str(work)]) == 0
    deck = work / flashcards.DEFAULT_EXPORT
    assert zipfile.is_zipfile(deck) and str(deck) in capsys.readouterr().out
    assert flashcards.main(["export", "deck.apkg", "--workspace", str(work)]) == 0
    assert (work / "deck.apkg").is_file()
    elsewhere = tmp_path / "exports" / "cards.apkg"
    assert flashcards.main(["export", str(elsewhere), "--workspace", str(work)]) == 0
    assert elsewhere.is_file()
    in_root = workspace.REPO / "deck-test-should-not-exist.apkg"
    assert flashcards.main(["export", str(in_root), "--workspace", str(work)]) == 2
    assert not in_root.exists() and "repository root" in capsys.readouterr().err
    assert flashcards.anki_text("so $a < b$ here") == "so \\(a &lt; b\\) here"


def test_export_defaults_to_the_labs_workspace(tmp_path, monkeypatch):
    """Inside the lab (its schedule file set) the default workspace is the lab's own."""
    monkeypatch.setenv(flashcards.ENV_VAR, str(tmp_path / "w" / ".flashcards.json"))
    assert flashcards.default_workspace() == tmp_path / "w"
    monkeypatch.delenv(flashcards.ENV_VAR)
    assert flashcards.default_workspace() == workspace.REPO / "my-work"


def test_headless_widgets_draw_nothing_and_import_no_widgets(tmp_path):
    """With COURSE_HEADLESS=1 the flashcard review and the grader-check control return None (nothing is
    displayed) without importing ipywidgets."""
    code = ("import sys\n"
            "from course.widgets.flashcards import flashcard_review\n"
            "from course.widgets.grader_check import grader_check\n"
            "assert flashcard_review('01') is None and grader_check() is None\n"
            "assert 'ipywidgets' not in sys.modules, 'ipywidgets imported'\n")
    env = {**os.environ, "COURSE_HEADLESS": "1", "JPY_SESSION_NAME": str(tmp_path / "01-batch-size.ipynb")}
    subprocess.run([sys.executable, "-c", code], cwd=workspace.REPO, env=env, check=True, timeout=60)
    env["COURSE_HEADLESS"] = "0"
    shown = subprocess.run([sys.executable, "-c", code], cwd=workspace.REPO, env=env, capture_output=True,
                           text=True, timeout=60)
    assert shown.returncode != 0 and "AssertionError" in shown.stderr


def test_learner_lab_hides_instructor_panels_and_validate(tmp_path):
    """The learner's Jupyter config disables nbgrader's instructor plugins and its Validate button, and
    points to the workspace files."""
    env = lab.learner_environment(tmp_path)
    page_config = json.loads((tmp_path / ".jupyter" / "labconfig" / "page_config.json").read_text())
    disabled = set(page_config["disabledExtensions"])
    assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:validate-assignment"} <= disabled
    assert env["JUPYTER_CONFIG_DIR"] == str(tmp_path.resolve() / ".jupyter")
    assert env[progress.ENV_VAR].endswith(workspace.PROGRESS_FILE)


def test_lab_options_pass_through_and_the_start_page_is_the_default_url(tmp_path):
    """`python -m course.lab --port 8899 --no-browser` hands both to jupyter lab; the server's default URL
    (what it prints and opens) is the start page."""
    command = lab.lab_command(tmp_path, ["--port", "8899", "--no-browser"])
    assert command[-3:] == ["--port", "8899", "--no-browser"]
    lab.learner_environment(tmp_path)
    config = json.loads((tmp_path / ".jupyter" / "jupyter_server_config.json").read_text())
    assert config["ServerApp"]["default_url"] == "/lab/tree/START.ipynb"
    assert config["ServerApp"]["kernel_websocket_connection_class"] == "course.server.NoDelayKernelWebsocketConnection"


def test_make_lab_passes_lab_args():
    """`make lab LAB_ARGS="--port 8899 --no-browser"` runs course.lab with those options."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "-n", "lab", "LAB_ARGS=--port 8899 --no-browser"], cwd=workspace.REPO,
                         capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if "course.lab" in line)
    assert line.endswith("--port 8899 --no-browser"), line


def test_kernel_websockets_have_tcp_nodelay_on_the_installed_jupyter_server(tmp_path):
    """Start the learner's server as `make lab` does, open a kernel websocket like JupyterLab, and read the
    server's log: the configured connection class ran and the socket reports TCP_NODELAY=1."""
    import asyncio
    import re
    import socket
    import time
    import urllib.request

    from tornado.websocket import websocket_connect

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    work = tmp_path / "my-work"
    work.mkdir()
    env = {**lab.learner_environment(work), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    command = lab.lab_command(work, ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
                                     "--ServerApp.port_retries=0", f"--LabApp.workspaces_dir={tmp_path / 'ws'}"])
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=work)
    try:
        url = None
        deadline = time.monotonic() + 90
        while url is None and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.3)
            found = re.search(rf"http://127\.0\.0\.1:{port}/\S*\?token=(\w+)", log.read_text(errors="replace"))
            url = found and found.group(0)
        assert url, f"the server printed no URL:\n{log.read_text(errors='replace')[-3000:]}"
        token = url.rsplit("token=", 1)[1]
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/kernels?token={token}", method="POST",
                                         data=b"{}", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            kernel = json.loads(response.read())["id"]

        async def open_websocket():
            connection = await websocket_connect(
                f"ws://127.0.0.1:{port}/api/kernels/{kernel}/channels?token={token}&session_id=test",
                subprotocols=["v1.kernel.websocket.jupyter.org"])
            for _ in range(300):
                if server_nodelay_lines():
                    break
                await asyncio.sleep(0.1)
            connection.close()

        def server_nodelay_lines():
            return re.findall(rf"{re.escape(lab.server.LOG_LINE)}(-?\d) \(kernel {kernel}\)",
                              log.read_text(errors="replace"))

        asyncio.run(open_websocket())
        assert server_nodelay_lines() == ["1"], log.read_text(errors="replace")[-3000:]
    finally:
        server.terminate()
        server.wait(timeout=30)


# --------------------------------------------------------------------------------------------
# "Check my notebook against the grader"

CHECK_JSON = {"notebook": "01-batch-size", "status": "graded", "message": "", "score": 3.0, "max_score": 7.0,
              "file": "01-batch-size.ipynb", "manual": ["ex9-written"],
              "exercises": [{"grade_id": "ex1-critical-batch", "score": 1.0, "max_score": 1.0, "outcome": "passed",
                             "message": ""},
                            {"grade_id": "ex4-cost", "score": 0.0, "max_score": 2.0, "outcome": "failed",
                             "message": "You are off by exactly a factor of 1000: check your units."}]}
CHECK_TEXT = """01-batch-size.ipynb: 3/7 points (graded)
  ✓ ex1-critical-batch: 1/1
  ✗ ex4-cost: 0/2  You are off by exactly a factor of 1000: check your units.
  … ex9-written: graded by your instructor
"""


@pytest.mark.parametrize("output", [json.dumps(CHECK_JSON, indent=1), CHECK_TEXT], ids=["json", "text"])
def test_grader_check_reads_the_checks_output(output):
    """The adapter reads `autograder check --json` and, as a fallback, its text output, to the same report."""
    from course.widgets import grader_check

    report = grader_check.parse_report(output)
    assert (report.score, report.max_score, report.status, report.manual) == (3.0, 7.0, "graded", ("ex9-written",))
    assert [(e.grade_id, e.score, e.max_score, e.right) for e in report.exercises] == [
        ("ex1-critical-batch", 1.0, 1.0, True), ("ex4-cost", 0.0, 2.0, False)]
    assert report.exercises[1].hint.startswith("You are off by exactly a factor of 1000")
    shown = grader_check.report_html(report, {"ex4-cost": "cost_per_million_tokens_usd"})
    assert "3 / 7 points" in shown and "<code>cost_per_million_tokens_usd</code> <small>(ex4-cost)" in shown
    assert "factor of 1000" in shown and "graded by your instructor" in shown
    assert grader_check.hint_html("AnswerError: `x`: not yet right. a < b") == "<code>x</code>: not yet right. a &lt; b"
    with pytest.raises(grader_check.CheckFailed, match="could not be read"):
        grader_check.parse_report("Traceback (most recent call last):\n  ...")


def test_grader_check_finds_its_notebook_and_assignment(tmp_path):
    """The notebook comes from JPY_SESSION_NAME (set by jupyter_server per kernel); the assignment from its
    name, updated copies included; the command uses absolute paths, so it works from any directory."""
    from course.widgets import grader_check

    path = tmp_path / "01-batch-size (updated 2026-12).ipynb"
    assert grader_check.session_notebook({"JPY_SESSION_NAME": str(path)}) == path
    assert grader_check.session_notebook({}) is None
    assert grader_check.assignment_of(path) == "01-batch-size"
    assert grader_check.assignment_of(tmp_path / "01-batch-size.ipynb") == "01-batch-size"
    assert grader_check.assignment_of(tmp_path / "scratch.ipynb") is None
    command = grader_check.check_command(Path("rel") / "01-batch-size.ipynb", "01-batch-size", "/usr/bin/python3")
    assert command[:4] == ["/usr/bin/python3", "-m", "autograder", "check"]
    assert Path(command[4]).is_absolute() and "--json" in command
    assert command[-2:] == ["--assignment", "01-batch-size"]
    points = workspace.segment_points(SEGMENTS[0])
    assert grader_check.variables_by_grade_id(RELEASE_01, "01-batch-size") == points.variable_of
    assert set(points.variable_of.values()) == set(points.by_variable)
    assert len(points.variable_of) == len(release_points(RELEASE_01)[1])


def test_grader_check_warns_when_the_course_has_a_newer_version(tmp_path, monkeypatch):
    """Checking a copy older than the course's version says so (the grader checks against the newer one)."""
    from course.widgets import grader_check

    work = tmp_path / "my-work"
    workspace.prepare(work)
    copy = work / "01-batch-size.ipynb"
    assert grader_check.course_update_note(copy, "01-batch-size") == ""
    data = json.loads(copy.read_text())
    data["metadata"][workspace.METADATA_KEY]["release_fingerprint"] = "an older release"
    copy.write_text(json.dumps(data))
    note = grader_check.course_update_note(copy, "01-batch-size")
    assert "newer version" in note and workspace.UPDATE_COMMAND in note
    assert grader_check.course_update_note(copy, None) == ""
