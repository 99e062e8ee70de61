"""The trusted judge: runs the course's own test cells, outside the sandbox, on plain data.

The sandbox hands back, for each test cell, the values of the variables it reads,
already reduced to JSON (numbers, strings, booleans, None, or a marker naming a type
that is not plain data). This module validates that JSON again, rebuilds the values
in a fresh namespace that holds nothing else, and executes the full test source
(hidden tests included) from the course's copy of ``source/``. No learner object,
input transformer or monkeypatch can reach this process, so none can change a verdict.

Scoring follows nbgrader's rule for test cells: an exception scores 0; a last
expression that evaluates to a number between 0 and the points gives partial
credit; otherwise the cell earns all its points.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import math
import os
import re
from dataclasses import dataclass

from autograder.spec import TestCell, python_source

MAX_STRING_CHARS = 10_000
MAX_INT_BITS = 1000
PROGRESS_ENV_VAR = "COURSE_PROGRESS_FILE"


@dataclass(frozen=True)
class ExerciseResult:
    """The verdict on one test cell."""

    grade_id: str
    score: float
    max_score: float
    outcome: str
    message: str = ""
    stdout: str = ""
    error_name: str = ""

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    def as_dict(self) -> dict:
        return {"grade_id": self.grade_id, "score": self.score, "max_score": self.max_score,
                "outcome": self.outcome, "message": self.message}


class NotPlainData:
    """Stands for a learner value that was not plain data (only its type name crosses the sandbox)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object: not plain data>"


_MISSING = object()


def _type_named(name) -> type:
    safe = re.sub(r"[^A-Za-z0-9_]", "_", str(name))[:60] or "object"
    if safe[0].isdigit():
        safe = "_" + safe
    return type(safe, (NotPlainData,), {"__module__": "submission"})


def decode_value(item):
    """The plain value described by ``item`` (as the sandbox sent it), re-validated; _MISSING if absent."""
    if not isinstance(item, dict):
        return _type_named("invalid")()
    kind, value = item.get("t"), item.get("v")
    if kind == "missing":
        return _MISSING
    if kind == "none":
        return None
    if kind == "bool" and type(value) is bool:
        return value
    if kind == "int" and type(value) is int and value.bit_length() <= MAX_INT_BITS:
        return value
    if kind == "bigint" and item.get("sign") in (1, -1):
        return item["sign"] * 10 ** 400
    if kind == "float":
        if type(value) is float:
            return value
        if type(value) is int and value.bit_length() <= MAX_INT_BITS:
            return float(value)
        if value in ("nan", "inf", "-inf"):
            return float(value)
    if kind == "str" and type(value) is str and len(value) <= MAX_STRING_CHARS:
        return value
    if kind == "other":
        return _type_named(item.get("type", "object"))()
    return _type_named("invalid")()


def decode_values(captured: dict) -> dict:
    """name -> rebuilt value for every variable the sandbox reported present."""
    values = {}
    for name, item in captured.items():
        if isinstance(name, str) and name.isidentifier():
            value = decode_value(item)
            if value is not _MISSING:
                values[name] = value
    return values


@contextlib.contextmanager
def _no_progress_file():
    """The course's checks record self-check progress when COURSE_PROGRESS_FILE is set: not while judging."""
    saved = os.environ.pop(PROGRESS_ENV_VAR, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[PROGRESS_ENV_VAR] = saved


def judge(test: TestCell, captured: dict) -> ExerciseResult:
    """Run ``test``'s full source on the captured plain values; score it as nbgrader would."""
    namespace = {"__name__": "__autograder_test__", "__builtins__": builtins}
    namespace.update(decode_values(captured))
    for statement in test.imports:  # names the course's own locked cells import (never the learner's objects)
        exec(compile(statement, f"<imports of {test.grade_id}>", "exec"), namespace)
    tree = ast.parse(python_source(test.source))
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    stdout, stderr = io.StringIO(), io.StringIO()
    result = None
    try:
        with _no_progress_file(), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            exec(compile(ast.Module(tree.body, type_ignores=[]), f"<test {test.grade_id}>", "exec"), namespace)
            if last is not None:
                result = eval(compile(ast.Expression(last.value), f"<test {test.grade_id}>", "eval"), namespace)
    except Exception as error:  # the verdict: any exception fails the test
        return ExerciseResult(test.grade_id, 0.0, test.points, "failed", _message(error), stdout.getvalue(),
                              type(error).__name__)
    return ExerciseResult(test.grade_id, _score(result, test.points), test.points, "passed", "", stdout.getvalue())


def _message(error: Exception) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _score(result, points: float) -> float:
    """nbgrader's partial credit: a number in [0, points] returned by the last line; otherwise full points."""
    if isinstance(result, bool) or not isinstance(result, (int, float)):
        return points
    value = float(result)
    if math.isfinite(value) and 0.0 <= value <= points:
        return value
    return points


def not_reached(test: TestCell, why: str) -> ExerciseResult:
    """A test the notebook never got to (it died, hung or hit a limit first): 0 points."""
    return ExerciseResult(test.grade_id, 0.0, test.points, "not_reached", f"not reached: {why}", "", "NotReached")


def deleted(test: TestCell) -> ExerciseResult:
    """A test cell the submission deleted: put back, 0 points."""
    return ExerciseResult(test.grade_id, 0.0, test.points, "deleted",
                          "this test cell was deleted from the submission; it was put back and scores 0",
                          "", "DeletedTestCell")
