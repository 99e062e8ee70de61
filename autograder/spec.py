"""What an assignment is, read from the instructor's source notebook (the trusted copy).

For every autograded test cell this records its grade_id, points, full source (with
the hidden tests: it never leaves the host), the source learners see (hidden tests
removed, as nbgrader's ``ClearHiddenTests`` does) and the learner variables the cell
reads, found with ``ast``. Manually graded cells, locked cells and solution cells are
recorded too, so a submission can be aligned with the source cell by cell.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"
BUILTIN_NAMES = frozenset(dir(builtins)) | {"get_ipython", "display", "__name__", "__file__"}


class SpecError(ValueError):
    """The source notebook does not follow the conventions the autograder relies on."""


def nbgrader_meta(cell: dict) -> dict:
    """The cell's ``metadata.nbgrader`` dict, or {} when absent or malformed."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def cell_source(cell: dict) -> str:
    """The cell's source as one string (nbformat allows a list of lines)."""
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def nbgrader_cell(cell: dict):
    """The cell as nbgrader's predicates read it (a NotebookNode with only its type and sanitised nbgrader metadata)."""
    from nbformat import NotebookNode

    meta = nbgrader_meta(cell)
    metadata = NotebookNode(nbgrader=NotebookNode(meta)) if meta else NotebookNode()
    return NotebookNode(cell_type=cell.get("cell_type") if isinstance(cell, dict) else None, metadata=metadata)


def cell_role(cell: dict) -> str:
    """``test``, ``manual``, ``solution``, ``locked`` or ``plain``, decided with nbgrader's own ``nbgrader.utils``
    predicates: a task, or a grade cell that is also a solution or is not code, is graded by hand."""
    from nbgrader.utils import is_grade, is_locked, is_solution, is_task

    node = nbgrader_cell(cell)
    if is_task(node) or (is_grade(node) and (is_solution(node) or node.cell_type != "code")):
        return "manual"
    if is_grade(node):
        return "test"
    if is_solution(node):
        return "solution"
    if is_locked(node):
        return "locked"
    return "plain"


def remove_hidden_tests(source: str) -> str:
    """``source`` without its BEGIN/END HIDDEN TESTS regions (delimiter lines included)."""
    kept, hidden = [], False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            if hidden:
                raise SpecError("nested BEGIN HIDDEN TESTS")
            hidden = True
        elif END_HIDDEN in line:
            hidden = False
        elif not hidden:
            kept.append(line)
    if hidden:
        raise SpecError("BEGIN HIDDEN TESTS without END HIDDEN TESTS")
    return "\n".join(kept)


def python_source(source: str) -> str:
    """``source`` with IPython syntax (magics, ``!cmd``) turned into plain Python."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def variables_read(source: str) -> tuple[str, ...]:
    """Names the cell reads but neither imports, defines nor gets from builtins, in order of first use."""
    tree = ast.parse(python_source(source))
    loaded: list[str] = []
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                if node.id not in loaded:
                    loaded.append(node.id)
            else:
                bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return tuple(name for name in loaded if name not in bound and name not in BUILTIN_NAMES)


def import_statements(sources: list[str]) -> dict[str, str]:
    """name -> the import statement (as source) that binds it, for every top-level import in ``sources``."""
    bound: dict[str, str] = {}
    for source in sources:
        try:
            tree = ast.parse(python_source(source))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) and not (
                    isinstance(node, ast.ImportFrom) and (node.level or any(a.name == "*" for a in node.names))):
                for alias in node.names:
                    name = (alias.asname or alias.name).split(".")[0]
                    single = type(node)(**{**{f: getattr(node, f) for f in node._fields}, "names": [alias]})
                    bound[name] = ast.unparse(single)
    return bound


@dataclass(frozen=True)
class TestCell:
    """One autograded test cell of the source notebook."""

    __test__ = False  # not a pytest test class, despite its name

    grade_id: str
    points: float
    source: str = field(repr=False)
    visible_source: str = field(repr=False)
    variables: tuple[str, ...]
    position: int
    imports: tuple[str, ...] = ()
    """Import statements of the course's locked cells that bind names this test reads (run by the judge)."""


@dataclass(frozen=True)
class ManualCell:
    """A cell an instructor grades by hand (a written answer or a task)."""

    grade_id: str
    points: float
    cell_type: str
    position: int


@dataclass(frozen=True)
class NotebookSpec:
    """One source notebook of an assignment."""

    name: str
    path: Path
    cells: tuple[dict, ...] = field(repr=False)
    tests: tuple[TestCell, ...]
    manual: tuple[ManualCell, ...]
    locked: dict[str, str] = field(repr=False)
    solution_ids: frozenset[str]
    sha256: str
    release_fingerprint: str | None = None
    """``course.workspace.fingerprint`` of the course's current release of this notebook, when known: a learner
    copy stamped with another one was made from an older (or newer) release."""

    @property
    def filename(self) -> str:
        return f"{self.name}.ipynb"

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tests) + sum(m.points for m in self.manual)

    @property
    def grade_ids(self) -> frozenset[str]:
        ids = {t.grade_id for t in self.tests} | {m.grade_id for m in self.manual}
        return frozenset(ids | set(self.locked) | self.solution_ids)

    @property
    def warm_cells(self) -> tuple[str, ...]:
        """The locked, ungraded code cells (course imports, explorers): safe to run before any learner code."""
        return tuple(self.locked.values())

    def test(self, grade_id: str) -> TestCell | None:
        return next((t for t in self.tests if t.grade_id == grade_id), None)


@dataclass(frozen=True)
class AssignmentSpec:
    """An assignment: its name and its source notebooks."""

    name: str
    notebooks: tuple[NotebookSpec, ...]

    @property
    def max_score(self) -> float:
        return sum(n.max_score for n in self.notebooks)

    @property
    def sha256(self) -> str:
        return hashlib.sha256("".join(n.sha256 for n in self.notebooks).encode()).hexdigest()


def load_notebook_spec(path: Path) -> NotebookSpec:
    """Read one source notebook; SpecError names the file and the cell when it breaks a convention."""
    raw = path.read_bytes()
    try:
        notebook = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise SpecError(f"{path}: not a readable notebook ({error})") from None
    cells = tuple(dict(c, source=cell_source(c)) for c in notebook.get("cells", []) if isinstance(c, dict))
    course_imports = import_statements([c["source"] for c in cells
                                        if cell_role(c) == "locked" and c.get("cell_type") == "code"])
    tests, manual, locked, solutions, seen = [], [], {}, set(), set()
    for position, cell in enumerate(cells):
        meta = nbgrader_meta(cell)
        role = cell_role(cell)
        if role == "plain":
            continue
        grade_id = meta.get("grade_id")
        if not isinstance(grade_id, str) or not grade_id:
            raise SpecError(f"{path}: cell {position} has nbgrader metadata but no grade_id")
        if grade_id in seen:
            raise SpecError(f"{path}: grade_id {grade_id!r} is used twice; make it unique")
        seen.add(grade_id)
        if role == "test":
            try:
                visible = remove_hidden_tests(cell["source"])
                names = variables_read(cell["source"])
            except (SpecError, SyntaxError) as error:
                raise SpecError(f"{path}: test cell {grade_id!r} cannot be read ({error})") from None
            imports = tuple(course_imports[n] for n in names if n in course_imports)
            learner_names = tuple(n for n in names if n not in course_imports)
            tests.append(TestCell(grade_id, float(meta.get("points", 0)), cell["source"], visible, learner_names,
                                  position, imports))
        elif role == "manual":
            manual.append(ManualCell(grade_id, float(meta.get("points", 0)), cell.get("cell_type", "markdown"),
                                     position))
        elif role == "solution":
            solutions.add(grade_id)
        elif role == "locked" and cell.get("cell_type") == "code":
            locked[grade_id] = cell["source"]
    return NotebookSpec(path.stem, path, cells, tuple(tests), tuple(manual), locked, frozenset(solutions),
                        hashlib.sha256(raw).hexdigest())


def load_assignment(source_root: Path, name: str) -> AssignmentSpec:
    """The assignment ``name`` under ``source_root`` (``source/<name>/*.ipynb``)."""
    folder = Path(source_root) / name
    paths = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if not paths:
        known = ", ".join(list_assignments(source_root)) or "none"
        raise SpecError(f"no notebook in {folder}: is {name!r} an assignment? (known: {known})")
    return AssignmentSpec(name, tuple(load_notebook_spec(p) for p in paths))


def list_assignments(source_root: Path) -> list[str]:
    """Names of the assignments under ``source_root``."""
    root = Path(source_root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb")))
