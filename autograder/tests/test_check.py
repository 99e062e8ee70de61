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
