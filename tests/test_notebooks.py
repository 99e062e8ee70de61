"""Source and release notebooks: nbgrader validity, regeneration, and static rendering."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest
from nbgrader.validator import Validator

from tests.notebooks import (
    REPO,
    assignments,
    exercises_checked,
    fill_from_source,
    graded_test_cells,
    load,
    nbgrader_meta,
    release_notebook,
    source_notebook,
)

ASSIGNMENTS = assignments()


def test_every_segment_has_an_assignment():
    """One nbgrader assignment per lecture segment, named NN-topic."""
    assert [name[:3] for name in ASSIGNMENTS] == [f"{n:02d}-" for n in range(1, len(ASSIGNMENTS) + 1)]


def _validate(notebook: dict, folder) -> dict:
    """``nbgrader validate``'s results (its public API) for ``notebook`` written into ``folder``."""
    path = folder / "notebook.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return Validator().validate(str(path))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_filled_with_the_solutions_passes_nbgrader_validate(assignment, tmp_path):
    """A learner's copy holding the instructor's solutions passes Validate (no check reads as partial credit)."""
    filled = fill_from_source(load(release_notebook(assignment)), load(source_notebook(assignment)))
    results = _validate(filled, tmp_path)
    assert results == {}, results


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_unanswered_release_fails_nbgrader_validate_in_every_graded_cell(assignment, tmp_path):
    """The learner's copy as released fails Validate once per graded cell (autograded tests, written answers)."""
    release = load(release_notebook(assignment))
    results = _validate(release, tmp_path)
    assert "changed" not in results and "passed" not in results, results
    graded = [c for c in release["cells"] if nbgrader_meta(c).get("grade")]
    assert len(results.get("failed", [])) == len(graded) >= len(graded_test_cells(release)), results


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_answer_cells_start_from_a_placeholder_that_runs(assignment):
    """Each release answer cell assigns every variable its test checks to ``...`` and raises nothing."""
    release = load(release_notebook(assignment))
    variables = [variable for _, variable in exercises_checked(release)]
    placeholders = {}
    for cell in release["cells"]:
        if cell["cell_type"] == "code" and nbgrader_meta(cell).get("solution"):
            text = "".join(cell["source"])
            assert "raise" not in text, text
            namespace: dict = {}
            exec(compile(text, nbgrader_meta(cell)["grade_id"], "exec"), namespace)
            placeholders.update({k: v for k, v in namespace.items() if v is Ellipsis})
    assert sorted(placeholders) == sorted(variables)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("copy", [source_notebook, release_notebook], ids=["source", "release"])
def test_no_check_cell_returns_a_value(assignment, copy, capsys):
    """Every graded test cell, with and without its hidden tests, ends in None on the right answer: nbgrader
    would read a number as a score."""
    notebook = load(copy(assignment))
    for cell, (exercise, variable) in zip(graded_test_cells(notebook), exercises_checked(notebook)):
        if hasattr(exercise, "options"):
            answer = exercise.correct
        elif hasattr(exercise, "answer"):  # a family: the current learner's own variant
            answer = exercise.answer(exercise.params())
        else:
            answer = exercise.expected()
        tree = ast.parse("".join(cell["source"]))
        last = tree.body.pop()
        assert isinstance(last, ast.Expr), f"{nbgrader_meta(cell)['grade_id']} must end in a call"
        namespace = {variable: answer}
        exec(compile(tree, "<test cell>", "exec"), namespace)
        assert eval(compile(ast.Expression(last.value), "<test cell>", "eval"), namespace) is None
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_graded_cells_have_ids_and_points(assignment):
    """Every test cell has a unique grade_id and positive points; solution and hidden markers are present."""
    notebook = load(source_notebook(assignment))
    ids = [nbgrader_meta(c)["grade_id"] for c in notebook["cells"] if nbgrader_meta(c)]
    assert len(ids) == len(set(ids))
    tests = graded_test_cells(notebook)
    assert len(tests) >= 3
    for cell in tests:
        text = "".join(cell["source"])
        assert nbgrader_meta(cell)["points"] > 0
        assert "### BEGIN HIDDEN TESTS" in text and ".check(" in text and ".check_value(" in text


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_hides_solutions_and_hidden_tests(assignment):
    """The student copy holds no solution, no hidden test and no output, and says it is generated."""
    notebook = load(release_notebook(assignment))
    text = "".join("".join(c["source"]) for c in notebook["cells"])
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and ".check_value(" not in text
    assert all(not c.get("outputs") for c in notebook["cells"] if c["cell_type"] == "code")
    stamp = notebook["metadata"]["course_generated"]
    assert stamp["source"] == f"source/{assignment}/{assignment}.ipynb" and "DO NOT EDIT" in stamp["note"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_explorer_renders_without_a_kernel(assignment):
    """The stored source notebook carries a PNG of each explorer, so GitHub and nbviewer show the figure."""
    notebook = load(source_notebook(assignment))
    explorers = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
                 if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
                 and "move the sliders" in "".join(o["data"].get("text/plain", ""))]
    assert explorers, "no explorer output stored: execute the source notebook before committing"
    assert all("image/png" in o["data"] for o in explorers)


def test_release_is_regenerated_from_source():
    """release/ is exactly what nbgrader generates from source/ (run `make release` after editing source/)."""
    result = subprocess.run([sys.executable, "-m", "course.release", "--check"], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
