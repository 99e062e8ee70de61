"""``python -m autograder check``: a learner checks their own notebook; scores and hints, nothing hidden."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from autograder import check_notebook
from autograder.course import REPO_ROOT
from autograder.feedback import hidden_fragments
from autograder.tests.builders import answer_lines, exercise_of, learner_notebook, wrong_value, write
from autograder.tests.conftest import needs_bwrap

pytestmark = needs_bwrap


def test_check_prints_scores_and_hints_but_no_hidden_test_or_expected_value(segment1, tmp_path):
    spec = segment1.notebooks[0]
    notebook = write(tmp_path / "01-batch-size.ipynb",
                     learner_notebook(spec, answer_lines(spec, wrong_value), solution="blank"))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run([sys.executable, "-m", "autograder", "check", str(notebook)], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    output = result.stdout
    assert f"01-batch-size: 0/{segment1.max_score:g} points" in output
    assert output.count("✗") == len(spec.tests) and "not yet right" in output
    assert not [f for f in hidden_fragments(segment1) if f in output]
    for test in spec.tests:
        exercise, _ = exercise_of(test.source)
        if hasattr(exercise, "expected"):
            expected = float(exercise.expected())
            assert f"{expected:g}" not in output and repr(expected) not in output


def test_check_notebook_returns_per_exercise_results(segment1, tmp_path):
    spec = segment1.notebooks[0]
    path = write(tmp_path / "my copy.ipynb", learner_notebook(spec))
    result = check_notebook(path, "01-batch-size")
    assert result.score == result.max_score == segment1.max_score
    assert [e.grade_id for e in result.exercises] == [t.grade_id for t in spec.tests]
    assert all(e.passed and e.message == "" for e in result.exercises)
    summary = json.loads(json.dumps([e.as_dict() for e in result.exercises]))
    assert set(summary[0]) == {"grade_id", "score", "max_score", "outcome", "message"}


def _stamped_release(assignment: str, drop_test: str | None = None) -> dict:
    """The learner's copy of the current release (as ``course.workspace`` makes it); with ``drop_test``, a copy of
    an older release that did not have that exercise yet (its stamp is that older release's fingerprint)."""
    import datetime

    from course.workspace import fingerprint, stamped_copy

    release = json.loads((REPO_ROOT / "release" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    if drop_test is not None:
        release = dict(release, cells=[c for c in release["cells"]
                                       if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != drop_test])
    copy = stamped_copy(release, assignment, datetime.datetime.now().astimezone())
    assert copy["metadata"]["course_copy"]["release_fingerprint"] == fingerprint(release)
    return copy


def test_unanswered_exercises_say_no_answer_yet_and_an_older_copy_is_out_of_date(segment1, tmp_path):
    """The copy as released (``name = ...``) gets "no answer yet" from the grader, as from the check cells; a
    copy of an older release that lacks an exercise is ``outdated_copy`` with how to update, not tampering;
    a current copy with a test cell deleted is still ``cells_tampered``."""
    spec = segment1.notebooks[0]
    new_test = spec.tests[-1].grade_id
    fresh = check_notebook(write(tmp_path / "fresh" / spec.filename, _stamped_release(segment1.name)), segment1.name)
    assert fresh.status == "graded" and fresh.score == 0, fresh.message
    assert all("no answer yet" in e.message and "ellipsis" not in e.message for e in fresh.exercises), fresh.exercises

    older = check_notebook(write(tmp_path / "older" / spec.filename, _stamped_release(segment1.name, new_test)),
                           segment1.name)
    assert older.status == "outdated_copy", older.message
    assert "python -m course.lab update" in older.message and "deleted" not in older.message
    missing = next(e for e in older.exercises if e.grade_id == new_test)
    assert missing.outcome == "not_in_copy" and missing.score == 0 and "course.lab update" in missing.message
    assert all("no answer yet" in e.message for e in older.exercises if e.grade_id != new_test)

    tampered = dict(_stamped_release(segment1.name))
    tampered["cells"] = [c for c in tampered["cells"]
                         if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != new_test]
    deleted = check_notebook(write(tmp_path / "tampered" / spec.filename, tampered), segment1.name)
    assert deleted.status == "cells_tampered" and f"{new_test!r} was deleted" in deleted.message
