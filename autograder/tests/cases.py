"""The cohort of fixture learners: honest answers, every bad input and every known attack.

Each case is a student id, the files they submit and the (status, score) they must
get on segment 1 (7 points: five 1-point numeric exercises, one 2-point, one letter).
Attacks pair their trick with *wrong* answers: the trick must gain nothing.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

from autograder import statuses
from autograder.spec import AssignmentSpec, nbgrader_meta
from autograder.families import is_family
from autograder.tests.builders import answer_lines, exercise_of, learner_notebook, right_value, wrong_value

VARIANT_SALT = "workflow-test-salt"
"""The fixture cohort's variant salt (``python -m autograder salt``)."""
OWN_VARIANT = "s29-variant-own"
COPIED_VARIANT = "s30-copied-variant"
"""s30 submits s29's notebook: every exercise family answered with s29's numbers."""

EQ_CHEAT = ("class AlwaysEqual(float):\n    def __eq__(self, other): return True\n    def __ne__(self, other): return False\n"
            "    __hash__ = float.__hash__\n")

TRANSFORMER = '''
def _erase_tests(lines):
    text = "".join(lines)
    if "checks." in text or "check_value" in text:
        return ["pass\\n"]
    return lines
get_ipython().input_transformers_cleanup.append(_erase_tests)
get_ipython().input_transformers_post.append(_erase_tests)
'''

MONKEYPATCH = '''
import math, builtins
import course.exercise as core
from course.segments.batch_size import checks as _b
math.isclose = lambda *a, **k: True
core._close = lambda *a, **k: True
core.as_plain_float = lambda value, name: 1.0
for _exercise in _b.EXERCISES:
    object.__setattr__(_exercise, "check_value", lambda value: None)
    object.__setattr__(_exercise, "check", lambda value: None)
    object.__setattr__(_exercise, "verdict", lambda value: None)
core.AnswerError.__init__ = lambda self, *a: None
builtins.AssertionError = type("AssertionError", (Exception,), {})
'''


def snoop_files(paths: list[str]) -> str:
    """Code that tries to read the source notebook or the gradebook at ``paths`` and copy answers from them."""
    return f'''
import os
_read = []
for _path in {paths!r} + ["../../../source/01-batch-size/01-batch-size.ipynb", "../../../gradebook.db"]:
    try:
        with open(_path, "rb") as _f:
            _read.append((_path, len(_f.read())))
    except OSError:
        pass
for _folder in ["/", "/work", "/work/main", "..", os.path.expanduser("~")]:
    try:
        print(_folder, sorted(os.listdir(_folder))[:20])
    except OSError as _error:
        print(_folder, type(_error).__name__)
print("read:", _read)
if _read:
    critical_batch_quarter = 1200.0
'''


def scribble_files(paths: list[str]) -> str:
    """Code that tries to overwrite ``paths`` (the gradebook, another student's notebook)."""
    return f'''
_written = []
for _path in {paths!r}:
    try:
        with open(_path, "wb") as _f:
            _f.write(b"owned")
        _written.append(_path)
    except OSError:
        pass
print("written:", _written)
'''


NETWORK = '''
import socket, urllib.request
_answers = None
for _target in [("1.1.1.1", 80), ("127.0.0.1", 8888), ("localhost", 5432)]:
    try:
        socket.create_connection(_target, timeout=1).close()
        _answers = _target
    except OSError as _error:
        print("no network:", _target, type(_error).__name__)
try:
    urllib.request.urlopen("http://example.com", timeout=1)
    _answers = "http"
except Exception as _error:
    print("no http:", type(_error).__name__)
if _answers:
    critical_batch_quarter = 1200.0
'''

ENV_DETECT = '''
import os
_grading = [k for k in os.environ if k.startswith(("NBGRADER", "AUTOGRADER", "JPY", "CI", "GITHUB"))]
print("grading markers seen:", _grading)
_secret = os.environ.get("AUTOGRADER_TEST_ANSWER")
if _secret:
    critical_batch_quarter = float(_secret)
'''


@dataclass(frozen=True)
class Case:
    """A fixture learner: what they submit and what they must get."""

    student: str
    status: str
    score: float
    files: dict[str, bytes]


def _json(notebook: dict) -> bytes:
    return json.dumps(notebook, indent=1).encode("utf-8")


def _with_cell_changed(notebook: dict, grade_id: str, change) -> dict:
    notebook = copy.deepcopy(notebook)
    for index, cell in enumerate(notebook["cells"]):
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            change(notebook["cells"], index)
            return notebook
    raise KeyError(grade_id)


def build_cases(assignment: AssignmentSpec, cohort_root: Path, other: AssignmentSpec) -> list[Case]:
    """Every fixture learner of segment 1 (``other`` is another assignment, for wrong_assignment)."""
    spec = assignment.notebooks[0]
    name = spec.filename
    right = learner_notebook(spec)
    wrong_answers = answer_lines(spec, wrong_value)
    right_answers = answer_lines(spec, right_value)
    wrong = learner_notebook(spec, wrong_answers, solution="blank")
    first_test = spec.tests[0].grade_id
    first_solution = sorted(spec.solution_ids)[0]

    def wrong_plus(code: str) -> dict:
        return learner_notebook(spec, wrong_answers, solution="blank", extra={first_solution: code})

    def right_plus_after(grade_id: str, code: str) -> dict:
        return learner_notebook(spec, extra={grade_id: code})

    eq_answers = {v: f"{EQ_CHEAT}{v} = AlwaysEqual(1.0)" if not v.startswith("gap") else
                  f"class S(str):\n    def __eq__(self, o): return True\n{v} = S('zz')"
                  for v in right_answers}
    gradebook = str(cohort_root / "gradebook.db")
    other_student = str(cohort_root / "submitted" / "s01-right" / assignment.name / name)
    source_file = str(cohort_root / "source" / assignment.name / name)
    repo_source = str(spec.path)

    deleted = _with_cell_changed(right, first_test, lambda cells, i: cells.pop(i))
    duplicated = _with_cell_changed(right, spec.tests[1].grade_id,
                                    lambda cells, i: cells.insert(i, copy.deepcopy(cells[i])))
    third = spec.tests[2]
    edited_base = learner_notebook(spec, {v: wrong_answers[v] for v in third.variables if v in wrong_answers})
    edited = _with_cell_changed(edited_base, third.grade_id,
                                lambda cells, i: cells[i].update(source="print('all good')"))
    retyped = _with_cell_changed(right, spec.tests[3].grade_id,
                                 lambda cells, i: cells[i].update(cell_type="markdown", outputs=None))
    for cell in retyped["cells"]:
        if cell["cell_type"] == "markdown":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    points = _with_cell_changed(right, first_test,
                                lambda cells, i: cells[i]["metadata"]["nbgrader"].update(points=100))
    stripped = copy.deepcopy(right)
    for cell in stripped["cells"]:
        cell["metadata"] = {}
    other_notebook = learner_notebook(other.notebooks[0])

    own_numbers = learner_notebook(spec, answer_lines(spec, right_value, OWN_VARIANT, VARIANT_SALT), solution="blank")
    family_points = sum(t.points for t in spec.tests if is_family(exercise_of(t.source)[0]))

    tests = spec.tests
    after_two = tests[1].grade_id
    after_three = tests[2].grade_id
    points_of = {t.grade_id: t.points for t in tests}
    total = sum(points_of.values())
    first_points = points_of[first_test]

    return [
        Case("s01-right", statuses.GRADED, total, {name: _json(right)}),
        Case("s02-wrong", statuses.GRADED, 0, {name: _json(wrong)}),
        Case("s03-eq-cheat", statuses.GRADED, 0, {name: _json(learner_notebook(spec, eq_answers, solution="blank"))}),
        Case("s04-transformer", statuses.GRADED, 0, {name: _json(wrong_plus(TRANSFORMER))}),
        Case("s05-monkeypatch", statuses.GRADED, 0, {name: _json(wrong_plus(MONKEYPATCH))}),
        Case("s06-read-source", statuses.GRADED, 0,
             {name: _json(wrong_plus(snoop_files([source_file, repo_source, gradebook])))}),
        Case("s07-write-gradebook", statuses.GRADED, 0,
             {name: _json(wrong_plus(scribble_files([gradebook, other_student])))}),
        Case("s08-network", statuses.GRADED, 0, {name: _json(wrong_plus(NETWORK))}),
        Case("s09-env-detect", statuses.GRADED, 0, {name: _json(wrong_plus(ENV_DETECT))}),
        Case("s10-not-json", statuses.NOT_JSON, 0, {name: _json(right)[:500]}),
        Case("s11-not-utf8", statuses.NOT_UTF8, 0, {name: _json(right).decode("utf-8").encode("utf-16")}),
        Case("s12-empty", statuses.EMPTY_FILE, 0, {name: b""}),
        Case("s13-wrong-assignment", statuses.WRONG_ASSIGNMENT, 0, {name: _json(other_notebook)}),
        Case("s14-wrong-filename", statuses.WRONG_FILENAME, total, {"Untitled (1).ipynb": _json(right)}),
        Case("s15-missing-notebook", statuses.MISSING_NOTEBOOK, 0, {"answers.py": b"critical_batch_quarter = 1200\n"}),
        Case("s16-deleted-test", statuses.CELLS_TAMPERED, total - first_points, {name: _json(deleted)}),
        Case("s17-duplicated-test", statuses.CELLS_TAMPERED, total, {name: _json(duplicated)}),
        Case("s18-edited-test", statuses.CELLS_TAMPERED, total - third.points, {name: _json(edited)}),
        Case("s19-retyped-test", statuses.CELLS_TAMPERED, total, {name: _json(retyped)}),
        Case("s20-points-edited", statuses.CELLS_TAMPERED, total, {name: _json(points)}),
        Case("s21-kernel-dies", statuses.KERNEL_DIED, points_of[first_test] + points_of[after_two],
             {name: _json(right_plus_after(after_two, "import os\nos._exit(1)"))}),
        Case("s22-endless-loop", statuses.TIMEOUT, sum(points_of[t.grade_id] for t in tests[:3]),
             {name: _json(right_plus_after(after_three, "while True:\n    pass"))}),
        Case("s23-huge-output", statuses.OUTPUT_LIMIT, first_points,
             {name: _json(right_plus_after(first_test, "while True:\n    print('x' * 100_000)"))}),
        Case("s24-fork-bomb", statuses.PROCESS_LIMIT, first_points,
             {name: _json(right_plus_after(first_test,
                                           "import os\nwhile True:\n    try:\n        os.fork()\n"
                                           "    except OSError:\n        pass"))}),
        Case("s25-memory-bomb", statuses.MEMORY_LIMIT, total,
             {name: _json(right_plus_after(first_test, "hog = []\nwhile True:\n    hog.append(bytearray(50_000_000))"))}),
        Case("s26-lms-name", statuses.GRADED, total, {f"doe_26_4711_{name}": _json(right)}),
        Case("s27-metadata-stripped", statuses.WRONG_ASSIGNMENT, 0, {name: _json(stripped)}),
        Case("s28-syntax-error", statuses.GRADED, total - first_points,
             {name: _json(learner_notebook(spec, {v: f"{v} = (" for v in tests[0].variables}))}),
        Case(OWN_VARIANT, statuses.GRADED, total, {name: _json(own_numbers)}),
        Case(COPIED_VARIANT, statuses.WRONG_VARIANT, total - family_points, {name: _json(own_numbers)}),
    ]
