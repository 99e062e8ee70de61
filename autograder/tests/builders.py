"""Building learner notebooks for tests: release-like copies of a source notebook with chosen answers."""

from __future__ import annotations

import copy
import importlib
import json
import re
from pathlib import Path

from autograder.spec import NotebookSpec, cell_role, nbgrader_meta, remove_hidden_tests

CHECK_CALL = re.compile(r"from course\.segments\.(\w+) import checks.*?checks\.(\w+)\.check\((\w+)\)", re.DOTALL)
SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION\n?(.*?)### END SOLUTION\n?", re.DOTALL)


def exercise_of(test_source: str):
    """(exercise object, variable) named by a test cell's check call, or (None, None)."""
    match = CHECK_CALL.search(test_source)
    if match is None:
        return None, None
    module, constant, variable = match.groups()
    return getattr(importlib.import_module(f"course.segments.{module}.checks"), constant), variable


def right_value(exercise, learner: str = "anonymous", salt: str | None = None):
    """The right answer (for an exercise family: ``learner``'s own variant's, drawn with ``salt``)."""
    if hasattr(exercise, "options"):
        return exercise.correct
    if hasattr(exercise, "params"):
        return float(exercise.exercise(exercise.params(learner, salt=salt)).expected())
    return float(exercise.expected())


def wrong_value(exercise, learner: str = "anonymous", salt: str | None = None):
    """A likely mistake: twice the right number, or another option letter; for a family, a negative number
    (wrong for every learner's variant)."""
    if hasattr(exercise, "options"):
        return next(letter for letter in sorted(exercise.options) if letter != exercise.correct)
    if hasattr(exercise, "params"):
        return -1.0
    return 2 * float(exercise.expected())


def learner_notebook(spec: NotebookSpec, answers: dict[str, str] | None = None, *, solution: str = "source",
                     extra: dict[str, str] | None = None) -> dict:
    """A release-like copy of ``spec``'s notebook as a learner would submit it.

    Solution cells hold the source's own solution (``solution="source"``) or
    ``None`` placeholders (``solution="blank"``); then, for each variable in
    ``answers``, the line ``answers[variable]`` is appended to the solution cell that
    its test reads. ``extra`` maps a grade_id to code put in a new plain cell right
    after that cell (``"top"`` for the very start).
    """
    answers = answers or {}
    extra = extra or {}
    notebook = {"cells": [], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                         "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    owner = _solution_owner(spec)
    if "top" in extra:
        notebook["cells"].append(plain_cell(extra["top"]))
    for cell in spec.cells:
        cell = copy.deepcopy(cell)
        role, grade_id = cell_role(cell), nbgrader_meta(cell).get("grade_id")
        if role == "test":
            cell["source"] = remove_hidden_tests(cell["source"])
        elif role == "solution" and cell.get("cell_type") == "code":
            body = SOLUTION_BLOCK.search(cell["source"])
            code = body.group(1) if (body and solution == "source") else ""
            if solution == "blank":
                code = "".join(f"{v} = None\n" for v in owner.get(grade_id, []))
            for variable in owner.get(grade_id, []):
                if variable in answers:
                    code += f"\n{answers[variable]}\n"
            cell["source"] = code
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        notebook["cells"].append(cell)
        if grade_id in extra:
            notebook["cells"].append(plain_cell(extra[grade_id]))
    return notebook


def _solution_owner(spec: NotebookSpec) -> dict[str, list[str]]:
    """solution grade_id -> the test variables its source assigns."""
    variables = {v for t in spec.tests for v in t.variables}
    owner = {}
    for cell in spec.cells:
        if cell_role(cell) == "solution":
            assigned = [v for v in sorted(variables) if re.search(rf"^\s*{v}\s*=", cell["source"], re.MULTILINE)]
            owner[nbgrader_meta(cell)["grade_id"]] = assigned
    return owner


def answer_lines(spec: NotebookSpec, choose, learner: str = "anonymous", salt: str | None = None) -> dict[str, str]:
    """variable -> ``variable = <choose(exercise, learner, salt)>`` for every check-style test."""
    lines = {}
    for test in spec.tests:
        exercise, variable = exercise_of(test.source)
        if exercise is not None:
            lines[variable] = f"{variable} = {choose(exercise, learner, salt)!r}"
    return lines


def plain_cell(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}


def write(path: Path, notebook: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path
