"""The learner's progress: which exercises their last self-check passed, and what they are worth.

Stored as JSON in the file named by the environment variable
``COURSE_PROGRESS_FILE`` (``make lab`` sets it to ``my-work/.progress.json``).
Without that variable nothing is recorded: grading runs and tests leave no trace.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

ENV_VAR = "COURSE_PROGRESS_FILE"


def progress_file() -> Path | None:
    """Where progress is kept, or None when not in a learner's lab."""
    value = os.environ.get(ENV_VAR)
    return Path(value) if value else None


def load(path: Path | None = None) -> dict[str, bool]:
    """variable -> passed at its last self-check; empty if no file or an unreadable one."""
    path = path or progress_file()
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): bool(v) for k, v in data.items()} if isinstance(data, dict) else {}


def record(variable: str, passed: bool, path: Path | None = None) -> None:
    """Remember the latest verdict for ``variable`` (atomic write; silent if not in a learner's lab)."""
    path = path or progress_file()
    if path is None:
        return
    data = load(path)
    data[variable] = passed
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass  # progress is a convenience; never break the learner's cell over it


# --------------------------------------------------------------------------------------------
# Points, counted as the grader counts them: each grade cell's nbgrader ``points``.


@dataclass(frozen=True)
class SegmentPoints:
    """How many points a segment's exercises are worth, read from its release notebook.

    Attributes:
        by_variable: exercise variable -> points of the autograded test cell that checks it [points].
        manual: points of the cells an instructor grades by hand [points].
    """

    by_variable: dict[str, float]
    manual: float = 0.0
    variable_of: dict[str, str] = field(default_factory=dict)
    """grade_id of each autograded test cell -> the exercise variable it checks."""

    @property
    def total(self) -> float:
        """Everything the grader can award [points]."""
        return sum(self.by_variable.values()) + self.manual

    def earned(self, passed: dict[str, bool]) -> float:
        """Points of the exercises whose last self-check passed [points]."""
        return sum(points for variable, points in self.by_variable.items() if passed.get(variable))


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def segment_points(notebook: dict, variables: list[str], name: str = "notebook") -> SegmentPoints:
    """Points per exercise variable from the nbgrader metadata of ``notebook``'s grade cells.

    An autograded test cell belongs to the exercise variable it names (as a whole word); a grade
    cell that is also a solution cell, or not code, is graded by hand. Raises ValueError, naming
    ``name``, when a test cell names no exercise variable or several.
    """
    by_variable: dict[str, float] = {}
    variable_of: dict[str, str] = {}
    manual = 0.0
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not (meta.get("grade") or meta.get("task")):
            continue
        points = float(meta.get("points", 0))
        if meta.get("task") or meta.get("solution") or cell.get("cell_type") != "code":
            manual += points
            continue
        named = [v for v in variables if re.search(rf"(?<![\w.]){re.escape(v)}\b", _source(cell))]
        if len(named) != 1:
            raise ValueError(f"{name}: test cell {meta.get('grade_id')!r} names {named or 'no'} exercise "
                             f"variable(s) of {variables}; each test cell must check exactly one")
        by_variable[named[0]] = by_variable.get(named[0], 0.0) + points
        variable_of[str(meta.get("grade_id"))] = named[0]
    return SegmentPoints(by_variable, manual, variable_of)
