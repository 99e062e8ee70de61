"""Aligning submissions with the source: the sandbox only ever runs the course's visible test code."""

from __future__ import annotations

import copy

from autograder.plan import plan_notebook
from autograder.spec import nbgrader_meta
from autograder.tests.builders import learner_notebook


def _cells(notebook, grade_id):
    return [i for i, c in enumerate(notebook["cells"]) if nbgrader_meta(c).get("grade_id") == grade_id]


def test_an_untouched_notebook_needs_no_repair(segment1):
    spec = segment1.notebooks[0]
    plan = plan_notebook(spec, learner_notebook(spec))
    assert not plan.tampered and not plan.deleted_tests
    captured = [c for c in plan.job_cells() if c["capture"] is not None]
    assert [c["key"] for c in captured] == [t.grade_id for t in spec.tests]


def test_hidden_tests_never_reach_the_sandbox(segment1):
    spec = segment1.notebooks[0]
    notebook = learner_notebook(spec)
    for test in spec.tests:  # a learner who somehow holds the full source submits it
        notebook["cells"][_cells(notebook, test.grade_id)[0]]["source"] = test.source
    plan = plan_notebook(spec, notebook)
    assert not plan.tampered
    for cell in plan.job_cells():
        assert "HIDDEN" not in cell["source"] and "check_value" not in cell["source"]


def test_deleted_duplicated_edited_and_retyped_cells_are_repaired_and_noted(segment1):
    spec = segment1.notebooks[0]
    first, second, third, fourth = (t.grade_id for t in spec.tests[:4])
    notebook = learner_notebook(spec)
    cells = notebook["cells"]
    cells[_cells(notebook, third)[0]]["source"] = "pass"
    cells[_cells(notebook, fourth)[0]]["cell_type"] = "markdown"
    cells.insert(_cells(notebook, second)[0], copy.deepcopy(cells[_cells(notebook, second)[0]]))
    del cells[_cells(notebook, first)[0]]
    del cells[_cells(notebook, "setup")[0]]
    plan = plan_notebook(spec, notebook)
    text = " ".join(plan.notes)
    assert plan.deleted_tests == [first]
    for word in (f"{first!r} was deleted", f"{second!r} is duplicated", f"{third!r} was edited",
                 f"{fourth!r} was re-typed", "'setup' was deleted"):
        assert word in text
    runs = plan.job_cells()
    assert sum(c["key"] == second for c in runs) == 1
    assert all(c["key"] != first for c in runs)
    assert runs[0]["source"] == spec.locked["setup"], "the deleted setup cell is put back first"
    restored = [e for e in plan.entries if e.test_id == first]
    assert len(restored) == 1 and restored[0].deleted_test


def test_learner_cells_run_as_submitted(segment1):
    spec = segment1.notebooks[0]
    notebook = learner_notebook(spec, extra={"top": "print('hello')"})
    plan = plan_notebook(spec, notebook)
    assert plan.job_cells()[0]["source"] == "print('hello')"


def test_of_a_duplicated_grade_id_the_last_copy_counts_as_nbgrader_s_deduplicate_ids_keeps(segment1):
    """nbgrader's own DeduplicateIds is the reference: the copy it keeps is the one graded; earlier copies run as
    the learner's own code."""
    import nbformat
    from nbgrader.preprocessors import DeduplicateIds

    spec = segment1.notebooks[0]
    second = spec.tests[1].grade_id
    notebook = learner_notebook(spec)
    index = _cells(notebook, second)[0]
    early = copy.deepcopy(notebook["cells"][index])
    early["source"] = "print('early copy')"
    notebook["cells"].insert(index, early)
    deduplicated, _ = DeduplicateIds().preprocess(nbformat.from_dict(copy.deepcopy(notebook)), {})
    kept = [i for i, c in enumerate(deduplicated.cells) if nbgrader_meta(c).get("grade_id") == second]
    assert kept == [index + 1]
    plan = plan_notebook(spec, notebook)
    runs = plan.job_cells()
    early_runs = [i for i, c in enumerate(runs) if c["source"] == "print('early copy')"]
    graded = [i for i, c in enumerate(runs) if c["key"] == second]
    assert len(early_runs) == 1 and runs[early_runs[0]]["key"] is None
    assert len(graded) == 1 and graded[0] > early_runs[0]
    assert "only the last copy counts" in " ".join(plan.notes)
