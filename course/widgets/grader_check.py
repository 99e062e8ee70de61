"""In-notebook "Check my notebook against the grader": save, run the full check, show points and hints.

A segment notebook ends with::

    from course.widgets.grader_check import grader_check
    grader_check()

On click the control saves the notebook (JupyterLab's own Save, triggered from the output), runs
``python -m autograder check <notebook> --assignment <name> --json`` with this kernel's interpreter
(the same check, in the same sandbox, as on the command line), and shows the points per exercise
and the grader's hints; never a hidden test or an expected value. The notebook is found through
``JPY_SESSION_NAME``, which jupyter_server sets for the kernel of each notebook.

With ``COURSE_HEADLESS=1`` (the grader) ``grader_check`` draws nothing and imports nothing more.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from course.headless import is_headless

REPO = Path(__file__).resolve().parents[2]
CHECK_TIMEOUT_S = 300
"""Longest wait for the full check [s]."""
SAVE_WAIT_S = 10
"""Longest wait for JupyterLab to write the notebook after the save is asked for [s]."""
SESSION_ENV = "JPY_SESSION_NAME"

SAVE_JS = """(() => {
  const panel = (element && element.closest('.jp-NotebookPanel')) ||
                document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const save = panel && panel.querySelector('[data-command="docmanager:save"]');
  if (save) { save.click(); }
})();"""
"""Clicks the Save button of the notebook that shows this output (JupyterLab 4 runs trusted JavaScript
outputs with ``element`` bound to the output's node)."""


@dataclass(frozen=True)
class ExerciseScore:
    """The grader's verdict on one test cell: points and the hint it gives (no test, no expected value)."""

    grade_id: str
    score: float
    max_score: float
    outcome: str
    hint: str = ""

    @property
    def right(self) -> bool:
        return self.outcome == "passed" and self.score == self.max_score


@dataclass(frozen=True)
class CheckReport:
    """What ``python -m autograder check`` said about one notebook."""

    status: str
    score: float
    max_score: float
    exercises: tuple[ExerciseScore, ...]
    manual: tuple[str, ...] = ()
    message: str = ""


class CheckFailed(RuntimeError):
    """The full check could not run or its output could not be read; the message says what to do."""


# --------------------------------------------------------------------------------------------
# The command and its output (pure)


def check_command(notebook: Path, assignment: str | None, python: str = sys.executable) -> list[str]:
    """The full check's command line, with an absolute interpreter and notebook path."""
    command = [python, "-m", "autograder", "check", str(Path(notebook).resolve()), "--json"]
    return command + (["--assignment", assignment] if assignment else [])


def parse_report(stdout: str) -> CheckReport:
    """Read the check's ``--json`` output (or, failing that, its text output) into a CheckReport."""
    start = stdout.find("{")
    if start >= 0:
        try:
            data = json.loads(stdout[start:])
        except ValueError:
            data = None
        if isinstance(data, dict) and "exercises" in data:
            return CheckReport(
                status=str(data.get("status", "")), score=float(data.get("score", 0)),
                max_score=float(data.get("max_score", 0)), message=str(data.get("message") or ""),
                exercises=tuple(ExerciseScore(str(e["grade_id"]), float(e["score"]), float(e["max_score"]),
                                              str(e.get("outcome", "")), str(e.get("message") or ""))
                                for e in data["exercises"]),
                manual=tuple(str(m) for m in data.get("manual", ())))
    return parse_text_report(stdout)


TEXT_HEAD = re.compile(r"^\S.*: (?P<score>[\d.]+)/(?P<max>[\d.]+) points \((?P<status>[^)]*)\)\s*$")
TEXT_EXERCISE = re.compile(
    r"^\s+(?P<mark>[✓✗]) (?P<id>\S+): (?P<score>[\d.]+)/(?P<max>[\d.]+)(?:\s{2}(?P<hint>.*))?$")
TEXT_MANUAL = re.compile(r"^\s+… (?P<id>\S+): graded by your instructor")


def parse_text_report(stdout: str) -> CheckReport:
    """Read the check's plain-text output (the adapter for a check without ``--json``)."""
    head, exercises, manual, message = None, [], [], ""
    for line in stdout.splitlines():
        if head is None and (match := TEXT_HEAD.match(line)):
            head = match
        elif match := TEXT_EXERCISE.match(line):
            exercises.append(ExerciseScore(match["id"], float(match["score"]), float(match["max"]),
                                           "passed" if match["mark"] == "✓" else "failed", match["hint"] or ""))
        elif match := TEXT_MANUAL.match(line):
            manual.append(match["id"])
        elif head is not None and not exercises and line.strip():
            message = line.strip()
    if head is None:
        raise CheckFailed("the grader's output could not be read:\n" + stdout.strip()[-2000:])
    return CheckReport(head["status"], float(head["score"]), float(head["max"]), tuple(exercises),
                       tuple(manual), message)


def _points(value: float) -> str:
    return f"{value:g}"


ERROR_PREFIX = re.compile(r"^(?:\w+\.)*\w*(?:Error|Exception): ")
CODE_SPAN = re.compile(r"`([^`]+)`")


def hint_html(hint: str) -> str:
    """A grader hint for the learner: without the exception's name, `names` set as code."""
    return CODE_SPAN.sub(r"<code>\1</code>", html.escape(ERROR_PREFIX.sub("", hint.strip()), quote=False))


def report_html(report: CheckReport, variable_of: dict[str, str] | None = None) -> str:
    """The result as the learner sees it: total, then one row per exercise with its points and hint."""
    variable_of = variable_of or {}
    lines = [f"<p><b>{_points(report.score)} / {_points(report.max_score)} points</b> from the grader's full "
             f"check (status: {html.escape(report.status)})</p>"]
    if report.message:
        lines.append(f"<p>{html.escape(report.message)}</p>")
    lines.append('<table style="text-align: left"><tr><th></th><th>exercise</th><th>points</th><th>hint</th></tr>')
    for exercise in report.exercises:
        variable = variable_of.get(exercise.grade_id)
        name = (f"<code>{html.escape(variable)}</code> <small>({html.escape(exercise.grade_id)})</small>"
                if variable else html.escape(exercise.grade_id))
        mark = "✓" if exercise.right else "✗"
        lines.append(f'<tr class="course-grader-{"right" if exercise.right else "wrong"}"><td>{mark}</td>'
                     f"<td>{name}</td><td>{_points(exercise.score)} / {_points(exercise.max_score)}"
                     f"</td><td>{hint_html(exercise.hint)}</td></tr>")
    for grade_id in report.manual:
        lines.append(f"<tr><td>…</td><td>{html.escape(grade_id)}</td><td>-</td>"
                     "<td>graded by your instructor</td></tr>")
    lines.append("</table>")
    return "\n".join(lines)


def session_notebook(environ: dict | None = None) -> Path | None:
    """The notebook this kernel belongs to, from ``JPY_SESSION_NAME`` (None outside JupyterLab)."""
    value = (os.environ if environ is None else environ).get(SESSION_ENV)
    return Path(value) if value else None


def assignment_of(notebook: Path) -> str | None:
    """The assignment a learner's copy belongs to, from its name (``01-batch-size (updated ...).ipynb``)."""
    from course.segments import SEGMENTS

    stem = notebook.name.removesuffix(".ipynb")
    for segment in SEGMENTS:
        if stem == segment.assignment or stem.startswith(f"{segment.assignment} ("):
            return segment.assignment
    return None


def run_check(notebook: Path, assignment: str | None, python: str = sys.executable,
              timeout: float = CHECK_TIMEOUT_S) -> CheckReport:
    """Run the full check in a subprocess (from the repository root) and read its report."""
    from course import flashcards, progress

    environment = {k: v for k, v in os.environ.items() if k not in (progress.ENV_VAR, flashcards.ENV_VAR)}
    try:
        done = subprocess.run(check_command(notebook, assignment, python), cwd=REPO, env=environment,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"the full check took longer than {timeout:g} s; try again, or run "
                          f"`{python} -m autograder check {notebook}` in a terminal") from None
    try:
        return parse_report(done.stdout)
    except CheckFailed:
        detail = (done.stderr or done.stdout).strip()[-1500:]
        raise CheckFailed(f"the full check failed (exit {done.returncode}):\n{detail}") from None


def record_progress(report: CheckReport, variable_of: dict[str, str]) -> None:
    """Remember the grader's verdicts for the start page (the same points)."""
    from course import progress

    for exercise in report.exercises:
        if exercise.grade_id in variable_of:
            progress.record(variable_of[exercise.grade_id], exercise.right)


def variables_by_grade_id(notebook: Path, assignment: str | None) -> dict[str, str]:
    """grade_id -> exercise variable, read from the notebook's own grade cells ({} if unknown)."""
    from course import progress
    from course.segments import SEGMENTS

    segment = next((s for s in SEGMENTS if s.assignment == assignment), None)
    if segment is None:
        return {}
    try:
        data = json.loads(Path(notebook).read_text(encoding="utf-8"))
        return progress.segment_points(data, [e.variable for e in segment.exercises()], str(notebook)).variable_of
    except (OSError, ValueError):
        return {}


def course_update_note(notebook: Path, assignment: str | None) -> str:
    """A warning (HTML) when the course's version of this segment is newer than this copy: the grader
    checks against the newer one. Empty otherwise."""
    from course import workspace
    from course.segments import SEGMENTS

    segment = next((s for s in SEGMENTS if s.assignment == assignment), None)
    release = workspace.release_notebook(segment) if segment else None
    try:
        if release is None or not release.exists() or \
                not workspace.is_outdated(notebook, workspace.read_notebook(release)):
            return ""
    except ValueError:
        return ""
    return ("<p><b>The course has a newer version of this segment.</b> The grader checks against it, so what it "
            f"added counts as missing here. <code>{workspace.UPDATE_COMMAND}</code> (or the button on START) puts "
            "it beside this copy, with your answers copied in.</p>")


# --------------------------------------------------------------------------------------------
# The control


class GraderCheck:
    """The button, its status line and the result; ``widget`` is what the notebook shows."""

    def __init__(self, notebook: Path | None, assignment: str | None):
        import ipywidgets as widgets

        self.notebook = notebook
        self.assignment = assignment
        self.button = widgets.Button(description="Check my notebook against the grader", icon="check",
                                     button_style="primary", layout=widgets.Layout(width="auto"))
        self.status = widgets.HTML()
        self.result = widgets.HTML()
        self.saver = widgets.Output(layout=widgets.Layout(display="none"))
        self.button.on_click(lambda _: self.check())
        self.widget = widgets.VBox([self.button, self.status, self.result, self.saver])
        self.widget.add_class("course-grader-check")
        if notebook is None:
            self.status.value = ("<i>This notebook's file is unknown here (open it in JupyterLab), so the full "
                                 "check must run in a terminal: <code>python -m autograder check "
                                 "my-work/NN-name.ipynb</code>.</i>")
            self.button.disabled = True

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Check my notebook against the grader (run the notebook to use it)"
        return bundle

    def save(self) -> bool:
        """Ask JupyterLab to save this notebook; True once the file on disk has changed."""
        from IPython.display import Javascript, display

        before = self.notebook.stat().st_mtime_ns if self.notebook.exists() else None
        self.saver.clear_output()
        with self.saver:
            display(Javascript(SAVE_JS))
        deadline = time.monotonic() + SAVE_WAIT_S
        while time.monotonic() < deadline:
            time.sleep(0.1)
            if self.notebook.exists() and self.notebook.stat().st_mtime_ns != before:
                time.sleep(0.2)  # let the write finish
                return True
        return False

    def check(self) -> CheckReport | None:
        """Save, run the full check and show its result; the report, or None if it could not run."""
        self.button.disabled = True
        self.result.value = ""
        try:
            if not self.notebook.exists():
                raise CheckFailed(f"{self.notebook} is not there any more (renamed or moved?): reopen the "
                                  "notebook from the file browser and run this cell again")
            self.status.value = "Saving the notebook…"
            saved = self.save()
            when = time.strftime("%H:%M:%S", time.localtime(self.notebook.stat().st_mtime))
            note = "" if saved else (f" <b>Could not save it for you:</b> checking the version saved at {when}; "
                                     "press Ctrl+S and check again if you changed something since.")
            self.status.value = f"Running the grader's full check (about 10 s)…{note}"
            report = run_check(self.notebook, self.assignment)
            variable_of = variables_by_grade_id(self.notebook, self.assignment)
            record_progress(report, variable_of)
            self.status.value = f"Checked the notebook as saved at {when}.{note}"
            self.result.value = course_update_note(self.notebook, self.assignment) + report_html(report, variable_of)
            return report
        except CheckFailed as error:
            self.status.value = f"<pre>{html.escape(str(error))}</pre>"
            return None
        finally:
            self.saver.clear_output()
            self.button.disabled = False


def grader_check(assignment: str | None = None) -> GraderCheck | None:
    """The "Check my notebook against the grader" control for this notebook; None, drawing nothing, with
    ``COURSE_HEADLESS=1``. ``assignment`` defaults to the one the notebook's file name shows."""
    if is_headless():
        return None
    notebook = session_notebook()
    return GraderCheck(notebook, assignment or (assignment_of(notebook) if notebook else None))
