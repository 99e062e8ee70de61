"""Helpers for tests that read, fill in and grade the course's notebooks."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "source"
RELEASE = REPO / "release"

CHECK_CALL = re.compile(r"^from course\.segments\.(\w+) import checks$.*?checks\.(\w+)\.check\((\w+)\)",
                        re.MULTILINE | re.DOTALL)


def assignments() -> list[str]:
    """Names of the assignments in source/."""
    return sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def source_notebook(assignment: str) -> Path:
    return SOURCE / assignment / f"{assignment}.ipynb"


def release_notebook(assignment: str) -> Path:
    return RELEASE / assignment / f"{assignment}.ipynb"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def nbgrader_meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def graded_test_cells(notebook: dict) -> list[dict]:
    """Autograded code test cells (grade true, not a solution)."""
    return [c for c in notebook["cells"]
            if c["cell_type"] == "code" and nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")]


def exercises_checked(notebook: dict) -> list[tuple[object, str]]:
    """(exercise object, learner variable) for every graded test cell, from its check call."""
    found = []
    for cell in graded_test_cells(notebook):
        match = CHECK_CALL.search("".join(cell["source"]))
        if match is None:
            raise AssertionError(f"test cell {nbgrader_meta(cell)['grade_id']} does not follow the check convention")
        module, constant, variable = match.groups()
        exercise = getattr(importlib.import_module(f"course.segments.{module}.checks"), constant)
        found.append((exercise, variable))
    return found


def solution_variables(source: dict, variables: list[str]) -> dict[str, list[str]]:
    """grade_id of each solution cell -> the learner variables (from ``variables``) it assigns."""
    mapping = {}
    for cell in source["cells"]:
        meta = nbgrader_meta(cell)
        if cell["cell_type"] == "code" and meta.get("solution"):
            text = "".join(cell["source"])
            mapping[meta["grade_id"]] = [v for v in variables if re.search(rf"^\s*{v}\s*=", text, re.MULTILINE)]
    return mapping


def fill_solutions(release: dict, cell_variables: dict[str, list[str]], answer_code: dict[str, str]) -> dict:
    """Copy of a release notebook whose solution cells set each variable with ``answer_code[variable]``."""
    filled = json.loads(json.dumps(release))
    for cell in filled["cells"]:
        meta = nbgrader_meta(cell)
        if cell["cell_type"] == "code" and meta.get("solution"):
            lines = [answer_code[v] for v in cell_variables.get(meta["grade_id"], [])]
            cell["source"] = "\n".join(lines) or "pass"
    return filled


def solution_text(cell: dict) -> str:
    """The instructor's answer in a source solution cell: its lines without the solution delimiters."""
    lines = "".join(cell["source"]).splitlines()
    return "\n".join(line for line in lines if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def fill_from_source(release: dict, source: dict) -> dict:
    """Copy of a release notebook whose solution cells (code and written) hold the source notebook's answers."""
    solutions = {nbgrader_meta(c)["grade_id"]: solution_text(c) for c in source["cells"]
                 if nbgrader_meta(c).get("solution")}
    filled = json.loads(json.dumps(release))
    for cell in filled["cells"]:
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            cell["source"] = solutions[meta["grade_id"]]
    return filled


def shows_number(text: str, value: float) -> bool:
    """True if ``value`` appears in ``text`` as a number in a common format (not as part of another number)."""
    forms = {f"{value:g}", f"{value:.3g}", repr(value)} | ({f"{value:,.0f}"} if abs(value) >= 100 else set())
    return any(re.search(rf"(?<![\d.,]){re.escape(form)}(?![\d])", text) for form in forms)
