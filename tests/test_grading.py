"""Every assignment graded by real ``nbgrader autograde``: right, wrong and cheating learners."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from course.variants import SALT_ENV, Family

from tests.notebooks import (
    REPO,
    assignments,
    exercises_checked,
    fill_solutions,
    graded_test_cells,
    load,
    nbgrader_meta,
    release_notebook,
    shows_number,
    solution_variables,
    source_notebook,
)

EQ_CHEAT = "class AlwaysEqual:\n    __eq__ = lambda self, other: True\n    __hash__ = object.__hash__"
OWN_A, OWN_B, COPIER = "dee", "eve", "hal"
"""Students whose variants differ on every exercise family of the course (asserted): dee and eve answer their own
numbers, hal hands in dee's."""


def _expected(exercise, student: str) -> float:
    """The right number for ``student`` (an exercise family: their own variant; no salt, as in this course dir)."""
    if isinstance(exercise, Family):
        return float(exercise.answer(exercise.params(student, salt="")))
    return float(exercise.expected())


def _wrong_code(exercise, variable: str, student: str) -> str:
    """A likely mistake: twice the right number, or a wrong option letter."""
    if hasattr(exercise, "options"):
        wrong = next(letter for letter in exercise.options if letter != exercise.correct)
        return f"{variable} = {wrong!r}"
    return f"{variable} = {2 * _expected(exercise, student)!r}"


def _right_code(exercise, variable: str, student: str) -> str:
    if hasattr(exercise, "options"):
        return f"{variable} = {exercise.correct!r}"
    return f"{variable} = {_expected(exercise, student)!r}"


def _nbgrader(course, *args):
    # nbgrader runs the `alembic` command to create its gradebook: it must be on PATH.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop(SALT_ENV, None)  # this course directory has no variant salt: variants follow from the student ids
    return subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
                          cwd=course, capture_output=True, text=True, timeout=600, env=env)


def _stalled(course, assignment: str, student: str) -> bool:
    """True when a kernel never answered (pitfalls.md: fresh kernels sometimes ignore their first request)."""
    notebook = course / "autograded" / student / assignment / f"{assignment}.ipynb"
    return not notebook.exists() or "CellTimeoutError" in notebook.read_text() or "DeadKernel" in notebook.read_text()


def _autograde_with_one_retry(course, assignment: str, students: list[str]) -> None:
    """Run nbgrader autograde; regrade once any student whose kernel stalled, so a stall is not a failure."""
    result = _nbgrader(course, "autograde", assignment, "--create", "--force")
    assert result.returncode == 0, result.stderr[-3000:]
    for student in students:
        if _stalled(course, assignment, student):
            retry = _nbgrader(course, "autograde", assignment, "--force", f"--student={student}")
            assert retry.returncode == 0, retry.stderr[-3000:]


@pytest.fixture(scope="module", params=assignments())
def graded(request, tmp_path_factory):
    """Autograde four students (right, wrong, __eq__ cheat, nothing answered) for one assignment; yield gradebook facts."""
    assignment = request.param
    course = tmp_path_factory.mktemp(assignment)
    shutil.copytree(REPO / "source" / assignment, course / "source" / assignment)
    shutil.copy(REPO / "nbgrader_config.py", course)
    (course / "nbgrader_config.py").write_text(
        (course / "nbgrader_config.py").read_text() + "c.Execute.timeout = 60\n")
    assert _nbgrader(course, "generate_assignment", assignment, "--force").returncode == 0

    source = load(source_notebook(assignment))
    checked = exercises_checked(source)
    variables = [variable for _, variable in checked]
    cell_variables = solution_variables(source, variables)
    release = load(release_notebook(assignment))
    students = {
        "right": {v: _right_code(e, v, "right") for e, v in checked},
        "wrong": {v: _wrong_code(e, v, "wrong") for e, v in checked},
        "cheat": {v: f"{EQ_CHEAT}\n{v} = AlwaysEqual()" for _, v in checked},
        OWN_A: {v: _right_code(e, v, OWN_A) for e, v in checked},
        OWN_B: {v: _right_code(e, v, OWN_B) for e, v in checked},
        COPIER: {v: _right_code(e, v, OWN_A) for e, v in checked},  # dee's numbers, handed in by hal
    }
    for student, answers in students.items():
        target = course / "submitted" / student / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(fill_solutions(release, cell_variables, answers)))
    students["blank"] = {}
    blank = course / "submitted" / "blank" / assignment / f"{assignment}.ipynb"
    blank.parent.mkdir(parents=True)
    blank.write_text(json.dumps(release))  # the learner's copy as released, nothing answered
    _autograde_with_one_retry(course, assignment, list(students))

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        facts = {}
        for student in students:
            submission = gradebook.find_submission(assignment, student)
            facts[student] = {"score": submission.score, "code_score": submission.code_score,
                              "max_code_score": submission.max_code_score,
                              "cells": {g.name: g.score for n in submission.notebooks for g in n.grades}}
    autograded = {s: load(course / "autograded" / s / assignment / f"{assignment}.ipynb") for s in students}
    cells = {nbgrader_meta(cell)["grade_id"]: found for cell, found in zip(graded_test_cells(source), checked)}
    yield {"assignment": assignment, "facts": facts, "autograded": autograded, "checked": checked, "cells": cells}


def _test_outputs(notebook: dict) -> list[str]:
    texts = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            texts.append("".join("".join(o.get("traceback", [])) + "".join(o.get("text", ""))
                                 for o in cell.get("outputs", [])))
    return texts


def test_right_answers_get_full_marks(graded):
    """A learner who answers every exercise correctly gets every autograded point (written answers are
    graded by hand and count only in max_score)."""
    facts = graded["facts"]["right"]
    assert facts["code_score"] == facts["max_code_score"] > 0
    assert facts["score"] == facts["code_score"]


def test_wrong_answers_get_zero_with_a_hint(graded):
    """A learner who makes the likely mistake everywhere gets zero, and each failure names what went wrong."""
    assert graded["facts"]["wrong"]["score"] == 0
    for output in _test_outputs(graded["autograded"]["wrong"]):
        assert "AnswerError" in output and ("not yet right" in output.lower() or "not this one" in output)


def test_unanswered_notebook_scores_zero_and_runs_to_the_end(graded):
    """Stock nbgrader gives the copy as released 0 points, each check saying "no answer yet"; no other cell
    fails, so the placeholders let Run All reach the flashcards."""
    assert graded["facts"]["blank"]["score"] == 0
    outputs = _test_outputs(graded["autograded"]["blank"])
    assert outputs and all("no answer yet" in output for output in outputs), outputs
    for cell in graded["autograded"]["blank"]["cells"]:
        if cell["cell_type"] == "code" and not cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            assert not [o for o in cell.get("outputs", []) if o["output_type"] == "error"], cell["source"]


def test_stock_autograde_grades_each_student_on_their_own_variant(graded):
    """Stock nbgrader knows the student from its autograded/<student>/ folder: two students with different numbers
    on every family each get full marks for their own; a third handing in the first's numbers gets 0 on exactly
    the family cells and full marks on the fixed ones."""
    families = [(e, v) for e, v in graded["checked"] if isinstance(e, Family)]
    assert families, "every segment has exercise families"
    for family, _ in families:
        answers = {s: _expected(family, s) for s in (OWN_A, OWN_B, COPIER)}
        assert len(set(answers.values())) == 3, f"{family.key}: choose ids whose variants differ ({answers})"
    facts = graded["facts"]
    for student in (OWN_A, OWN_B):
        assert facts[student]["code_score"] == facts[student]["max_code_score"] > 0, facts[student]
    family_cells = {grade_id for grade_id, (exercise, _) in graded["cells"].items() if isinstance(exercise, Family)}
    assert family_cells
    for grade_id, score in facts[COPIER]["cells"].items():
        if grade_id in family_cells:
            assert score == 0, grade_id
        elif grade_id in graded["cells"]:
            assert score == facts[OWN_A]["cells"][grade_id] > 0, grade_id


def test_always_equal_objects_get_zero(graded):
    """An object whose __eq__ always returns True never passes a check."""
    assert graded["facts"]["cheat"]["score"] == 0


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def _messages(output: str) -> str:
    """The AnswerError messages in a test cell's output, without colour codes or the traceback's code lines."""
    plain = ANSI_ESCAPE.sub("", output)
    return "\n".join(line.split("AnswerError: ", 1)[1] for line in plain.splitlines() if "AnswerError: " in line)


def test_feedback_never_shows_the_expected_value(graded):
    """Failure messages never contain the reference answer."""
    for (exercise, _), output in zip(graded["checked"], _test_outputs(graded["autograded"]["wrong"])):
        messages = _messages(output)
        assert messages, "a wrong answer must produce an AnswerError message"
        if hasattr(exercise, "expected"):
            assert not shows_number(messages, exercise.expected()), messages
