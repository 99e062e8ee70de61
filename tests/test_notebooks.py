"""Source and release notebooks: nbgrader validity, regeneration, and static rendering."""

from __future__ import annotations

import subprocess
import sys

import pytest
from nbgrader.validator import Validator

from tests.notebooks import (
    REPO,
    assignments,
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


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_passes_nbgrader_validate(assignment):
    """With the instructor's solutions every graded cell passes."""
    results = Validator().validate(str(source_notebook(assignment)))
    assert results == {}, results


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_notebook_fails_every_graded_cell(assignment):
    """Without solutions no graded cell passes (nbgrader validate --invert)."""
    results = Validator(invert=True).validate(str(release_notebook(assignment)))
    assert "passed" not in results and "changed" not in results, results


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
        assert "### BEGIN HIDDEN TESTS" in text and ".check_format(" in text


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
