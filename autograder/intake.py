"""Reading a submitted notebook file defensively: every way it can be unreadable gets its own status.

Nothing here runs learner code and nothing uses nbformat's validator (slow to import
and stricter than JupyterLab): a file is accepted when it is UTF-8 JSON with a list of
cells in nbformat 4 shape. Cells whose shape is wrong are dropped with a note.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder import statuses
from autograder.spec import AssignmentSpec, NotebookSpec, cell_source, nbgrader_meta

MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024
MAX_NESTING = 64
CELL_TYPES = ("code", "markdown", "raw")


@dataclass
class Intake:
    """A submitted file read: its cells, or the status saying why it cannot be graded."""

    path: Path
    status: str = statuses.GRADED
    message: str = ""
    notebook: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.notebook is not None


def read_notebook(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> Intake:
    """Read ``path`` as a notebook, or say precisely why it is not one."""
    name = path.name
    size = path.stat().st_size
    if size == 0:
        return Intake(path, statuses.EMPTY_FILE, f"{name} is empty (0 bytes)")
    if size > max_bytes:
        return Intake(path, statuses.TOO_LARGE, f"{name} is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit")
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return Intake(path, statuses.NOT_UTF8, f"{name} is not UTF-8 text (bad byte at offset {error.start})")
    if not text.strip():
        return Intake(path, statuses.EMPTY_FILE, f"{name} holds only whitespace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return Intake(path, statuses.NOT_JSON,
                      f"{name} is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})")
    except (ValueError, RecursionError) as error:
        return Intake(path, statuses.NOT_JSON, f"{name} is not valid JSON ({type(error).__name__})")
    return check_shape(path, data)


def check_shape(path: Path, data) -> Intake:
    """Accept JSON that has the shape of an nbformat 4 notebook; drop malformed cells with a note."""
    name = path.name
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        hint = " (nbformat 3: open and save it in JupyterLab)" if isinstance(data, dict) and "worksheets" in data else ""
        return Intake(path, statuses.NOT_A_NOTEBOOK, f"{name} is JSON but has no list of cells{hint}")
    if data.get("nbformat") != 4:
        return Intake(path, statuses.NOT_A_NOTEBOOK, f"{name} is nbformat {data.get('nbformat')!r}, not 4")
    if nesting_depth(data) > MAX_NESTING:
        return Intake(path, statuses.NOT_A_NOTEBOOK, f"{name} nests its JSON more than {MAX_NESTING} levels deep")
    cells, notes = [], []
    for index, cell in enumerate(data["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in CELL_TYPES:
            notes.append(f"cell {index} is malformed and was ignored")
            continue
        cleaned = dict(cell, source=cell_source(cell))
        if not isinstance(cleaned.get("metadata"), dict):
            cleaned["metadata"] = {}
        cells.append(cleaned)
    notebook = dict(data, cells=cells)
    if not isinstance(notebook.get("metadata"), dict):
        notebook["metadata"] = {}
    return Intake(path, notebook=notebook, notes=notes)


def nesting_depth(data) -> int:
    """How deeply ``data`` nests lists and dicts (iteratively: a hostile file cannot exhaust the stack)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING:
                return deepest
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def grade_ids(notebook: dict) -> set[str]:
    """Every nbgrader grade_id present in ``notebook``."""
    found = set()
    for cell in notebook["cells"]:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if isinstance(grade_id, str):
            found.add(grade_id)
    return found


def _normalized(source: str) -> str:
    return "\n".join(line.strip() for line in source.splitlines() if line.strip())


def match_score(notebook: dict, spec: NotebookSpec) -> float:
    """How much ``notebook`` looks like a copy of ``spec``: 1 per grade_id whose locked or test source
    also matches, 0.5 per grade_id that matches by name only (ids such as ``setup`` recur across assignments)."""
    expected = {t.grade_id: _normalized(t.visible_source) for t in spec.tests}
    expected.update({grade_id: _normalized(source) for grade_id, source in spec.locked.items()})
    score = 0.0
    for cell in notebook["cells"]:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if not isinstance(grade_id, str) or grade_id not in spec.grade_ids:
            continue
        same = grade_id in expected and _normalized(cell_source(cell)) == expected[grade_id]
        score += 1.0 if same else 0.5
    return score


def which_assignment(notebook: dict, candidates: list[AssignmentSpec]) -> tuple[str | None, float]:
    """The assignment ``notebook`` most looks like, and how much (None, 0 when it looks like none)."""
    best, best_score = None, 0.0
    for assignment in candidates:
        for spec in assignment.notebooks:
            score = match_score(notebook, spec)
            if score > best_score:
                best, best_score = assignment.name, score
    return best, best_score
