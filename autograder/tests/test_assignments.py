"""Every assignment in source/ grades generically: its own solutions get full marks, blank answers none."""

from __future__ import annotations

import pytest

from autograder.course import course_source_root, load_all_assignments
from autograder.engine import Submission, grade_submissions
from autograder.sandbox.pool import Limits
from autograder.spec import list_assignments
from autograder.tests.builders import learner_notebook, write
from autograder.tests.conftest import needs_bwrap

pytestmark = needs_bwrap


@pytest.fixture(scope="module")
def everything():
    return load_all_assignments(course_source_root())


@pytest.mark.parametrize("name", list_assignments(course_source_root()))
def test_solutions_score_full_marks_and_blanks_score_zero(everything, name, tmp_path):
    assignment = next(a for a in everything if a.name == name)
    submissions = []
    for kind in ("source", "blank"):
        folder = tmp_path / kind
        for spec in assignment.notebooks:
            write(folder / spec.filename, learner_notebook(spec, solution=kind))
        submissions.append(Submission(kind, tuple(sorted(folder.iterdir()))))
    results = {r.student: r for r in grade_submissions(assignment, submissions, everything,
                                                       Limits(timeout_s=120), jobs=2)}
    solved, blank = results["source"], results["blank"]
    assert solved.status == "graded", solved.message
    auto_max = sum(t.points for spec in assignment.notebooks for t in spec.tests)
    assert solved.score == pytest.approx(auto_max), [e for n in solved.notebooks for e in n.exercises if not e.passed]
    assert blank.status == "graded", blank.message
    assert blank.score == 0
    assert all(e.message for n in blank.notebooks for e in n.exercises)
