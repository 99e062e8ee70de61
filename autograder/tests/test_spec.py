"""Reading assignments from source/: every assignment the course has, and the ast rules on small cells."""

from __future__ import annotations

import pytest

from autograder.course import course_source_root
from autograder.spec import SpecError, list_assignments, load_assignment, remove_hidden_tests, variables_read

ASSIGNMENTS = list_assignments(course_source_root())


def test_the_course_has_assignments():
    assert "01-batch-size" in ASSIGNMENTS


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_assignment_follows_the_conventions(name):
    """Each assignment has test cells that read learner variables and hide their hidden part."""
    assignment = load_assignment(course_source_root(), name)
    for notebook in assignment.notebooks:
        assert notebook.tests, f"{name} has no autograded test cell"
        for test in notebook.tests:
            assert test.variables, f"{name}:{test.grade_id} reads no learner variable"
            assert "HIDDEN TESTS" not in test.visible_source
            assert test.points > 0
        assert notebook.max_score > 0


def test_variables_read_ignores_imports_builtins_and_local_names():
    source = ("from course.segments.batch_size import checks\nimport math\n"
              "checks.X.check(answer)\nlabel = str(other) + answer\nassert math.isfinite(label_len(label))\n"
              "[y for y in range(3)]\ndef helper(arg):\n    return arg + hidden\n")
    assert variables_read(source) == ("answer", "other", "label_len", "hidden")


def test_variables_read_understands_ipython_syntax():
    assert variables_read("%matplotlib inline\n!ls\nprint(answer)") == ("answer",)


def test_hidden_tests_are_removed_like_nbgrader_does():
    source = "visible(a)\n### BEGIN HIDDEN TESTS\nsecret(a)\n### END HIDDEN TESTS\nafter(a)"
    assert remove_hidden_tests(source) == "visible(a)\nafter(a)"
    with pytest.raises(SpecError):
        remove_hidden_tests("### BEGIN HIDDEN TESTS\nsecret()")


def test_a_duplicated_grade_id_in_source_is_an_error_naming_the_file(tmp_path):
    import json

    cell = {"cell_type": "code", "source": "x", "metadata": {"nbgrader": {"grade_id": "same", "grade": True,
                                                                         "points": 1}}, "outputs": []}
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "bad.ipynb").write_text(json.dumps({"cells": [cell, cell], "nbformat": 4, "nbformat_minor": 5,
                                                 "metadata": {}}))
    with pytest.raises(SpecError, match="bad.ipynb.*used twice"):
        load_assignment(tmp_path, "bad")
