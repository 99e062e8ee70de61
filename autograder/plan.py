"""Aligning a submission with the source notebook: what runs in the sandbox, and what was tampered with.

Cells are matched by their nbgrader ``grade_id``. The learner's own cells (answers,
scratch cells) run as submitted. Test cells and locked cells always run as the
*course's* version (hidden tests removed: the sandbox never sees them), whatever the
submission did to them; just before each test cell the sandbox captures the
variables that test reads. A test cell that was deleted is put back and scores 0
(it is not run, because the learner removed the point at which it would run); of a
duplicated grade_id only the last copy counts, as nbgrader's ``DeduplicateIds`` keeps
(the earlier copies lose their nbgrader role and run as the learner's own cells);
an edited or re-typed one is restored. Each such repair is noted, and any of them
makes the submission's status ``cells_tampered``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from autograder.spec import NotebookSpec, nbgrader_meta


@dataclass
class Entry:
    """One cell of the notebook as it will be graded (and written to ``autograded/``)."""

    cell: dict
    run_source: str | None = None
    capture: tuple[str, ...] | None = None
    key: str | None = None
    spec_position: int | None = None
    test_id: str | None = None
    deleted_test: bool = False
    job_index: int | None = None


@dataclass
class Plan:
    """The cells to run, in order, and the repairs made to the submission."""

    entries: list[Entry]
    notes: list[str] = field(default_factory=list)
    deleted_tests: list[str] = field(default_factory=list)
    version_notes: list[str] = field(default_factory=list)
    """The notes another release of the course explains (test or locked cells missing or with other source)."""

    @property
    def tampered(self) -> bool:
        return bool(self.notes)

    def job_cells(self) -> list[dict]:
        """The sandbox job: sources to run, with capture points before the test cells."""
        cells = []
        for entry in self.entries:
            if entry.run_source is not None:
                entry.job_index = len(cells)
                cells.append({"source": entry.run_source,
                              "capture": list(entry.capture) if entry.capture is not None else None,
                              "key": entry.key})
        return cells


def _normalized(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _restored_cell(spec: NotebookSpec, position: int, source: str) -> dict:
    original = spec.cells[position]
    cell = {"cell_type": original.get("cell_type", "code"), "metadata": copy.deepcopy(original.get("metadata", {})),
            "source": source}
    if cell["cell_type"] == "code":
        cell.update(outputs=[], execution_count=None)
    if "id" in original:
        cell["id"] = original["id"]
    return cell


def _metadata_changes(cell: dict, spec_cell: dict) -> list[str]:
    submitted, expected = nbgrader_meta(cell), nbgrader_meta(spec_cell)
    changed = []
    for key in ("grade", "solution", "locked", "points", "task"):
        if bool(submitted.get(key)) != bool(expected.get(key)) or (
                key == "points" and str(submitted.get(key)) != str(expected.get(key))):
            if key == "points" and _same_number(submitted.get(key), expected.get(key)):
                continue
            changed.append(f"{key} {expected.get(key)!r} -> {submitted.get(key)!r}")
    return changed


def _same_number(a, b) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def plan_notebook(spec: NotebookSpec, notebook: dict) -> Plan:
    """Align ``notebook`` (already read by ``intake``) with ``spec``."""
    tests = {t.grade_id: t for t in spec.tests}
    positions = {nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(spec.cells) if nbgrader_meta(c)}
    entries: list[Entry] = []
    notes: list[str] = []
    seen: set[str] = set()
    ids = [_grade_id(cell) for cell in notebook["cells"]]
    last = {grade_id: number for number, grade_id in enumerate(ids) if grade_id is not None}
    for number, (cell, grade_id) in enumerate(zip(notebook["cells"], ids)):
        if grade_id is not None and last[grade_id] != number:  # an earlier copy: nbgrader drops its role
            if grade_id in tests or grade_id in spec.locked:
                kind = "test" if grade_id in tests else "locked"
                notes.append(f"{kind} cell {grade_id!r} is duplicated (cell {number}); only the last copy counts, "
                             "as in nbgrader")
            entries.append(_learner_entry(cell, None))
        elif grade_id in tests:
            seen.add(grade_id)
            entries.append(_test_entry(spec, tests[grade_id], cell, number, notes))
        elif grade_id in spec.locked:
            seen.add(grade_id)
            entries.append(_locked_entry(spec, grade_id, positions[grade_id], cell, number, notes))
        else:
            entries.append(_learner_entry(cell, positions.get(grade_id)))
            if grade_id is not None and grade_id in positions:
                seen.add(grade_id)
    deleted, version = [], []
    for test in spec.tests:
        if test.grade_id not in seen:
            deleted.append(test.grade_id)
            notes.append(deleted_note(test.grade_id))
            version.append(notes[-1])
            _insert(entries, Entry(_restored_cell(spec, test.position, test.visible_source),
                                   spec_position=test.position, test_id=test.grade_id, deleted_test=True))
    for grade_id, source in spec.locked.items():
        if grade_id not in seen:
            notes.append(f"locked cell {grade_id!r} was deleted; it was put back")
            version.append(notes[-1])
            position = positions[grade_id]
            _insert(entries, Entry(_restored_cell(spec, position, source), run_source=source, spec_position=position))
    version += [n for n in notes if n.endswith(EDITED)]
    plan = Plan(entries, notes, deleted, version)
    plan.job_cells()
    return plan


EDITED = "; the course's version was used"


def deleted_note(grade_id: str) -> str:
    """The note on a test cell missing from the submission."""
    return f"test cell {grade_id!r} was deleted; it was put back and scores 0"


def _grade_id(cell: dict) -> str | None:
    grade_id = nbgrader_meta(cell).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


def _test_entry(spec: NotebookSpec, test, cell: dict, number: int, notes: list[str]) -> Entry:
    spec_cell = spec.cells[test.position]
    if cell.get("cell_type") != "code":
        notes.append(f"test cell {test.grade_id!r} was re-typed as {cell.get('cell_type')} (cell {number}); restored")
    elif _normalized(cell["source"]) not in (_normalized(test.visible_source), _normalized(test.source)):
        notes.append(f"test cell {test.grade_id!r} was edited (cell {number}){EDITED}")
    changes = _metadata_changes(cell, spec_cell)
    if changes:
        notes.append(f"test cell {test.grade_id!r} had its nbgrader metadata changed ({', '.join(changes)}); "
                     "the course's was used")
    return Entry(_restored_cell(spec, test.position, test.visible_source), run_source=test.visible_source,
                 capture=test.variables, key=test.grade_id, spec_position=test.position, test_id=test.grade_id)


def _locked_entry(spec: NotebookSpec, grade_id: str, position: int, cell: dict, number: int,
                  notes: list[str]) -> Entry:
    source = spec.locked[grade_id]
    if cell.get("cell_type") != "code":
        notes.append(f"locked cell {grade_id!r} was re-typed as {cell.get('cell_type')} (cell {number}); restored")
    elif _normalized(cell["source"]) != _normalized(source):
        notes.append(f"locked cell {grade_id!r} was edited (cell {number}){EDITED}")
    return Entry(_restored_cell(spec, position, source), run_source=source, spec_position=position)


def _learner_entry(cell: dict, spec_position: int | None) -> Entry:
    kept = copy.deepcopy(cell)
    if kept.get("cell_type") == "code":
        kept.update(outputs=[], execution_count=None)
        return Entry(kept, run_source=kept["source"], spec_position=spec_position)
    return Entry(kept, spec_position=spec_position)


def _insert(entries: list[Entry], entry: Entry) -> None:
    """Put a restored cell right after the cell that precedes it in the source notebook (or first)."""
    anchor = -1
    for index, other in enumerate(entries):
        if other.spec_position is not None and other.spec_position < entry.spec_position:
            anchor = index
    entries.insert(anchor + 1, entry)

