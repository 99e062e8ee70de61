"""The trusted judge: decides each test cell outside the sandbox, on plain data.

The sandbox hands back, for each test cell, the values of the variables it reads,
already reduced to plain data; ``protocol.values_from_plain`` validates them again and
rebuilds them in a namespace that holds nothing else. No learner object, input
transformer or monkeypatch can reach this process, so none can change a verdict.

Two ways to judge a test cell, both from the cohort's copy of ``source/`` (hidden tests
included):

* **A course exercise cell** (only imports of course modules and calls
  ``checks.EX.check(x)`` / ``checks.EX.check_value(x)``, on exercises that have a pure
  ``verdict``): the exercise is resolved from the course package and judged by
  ``verdict(x)``. Nothing is printed or recorded (no progress file is ever written),
  and the outcome is the one nbgrader gets by running the cell in its kernel: there
  (``NBGRADER_EXECUTION`` set) both ``check`` and ``check_value`` raise
  ``AnswerError(verdict)`` when the verdict is not None, so the first such call fails
  the cell.
* **Any other test cell** is executed as nbgrader would, and scored by nbgrader's own
  ``nbgrader.utils.determine_grade`` on the outputs it produced: an error or anything
  written to stderr scores 0; a last expression that displays a number is partial
  credit, and one above the cell's points raises ``PartialCreditError`` (nbgrader raises
  and grades nothing); anything else earns all the points.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import importlib
import inspect
import io
import sys
import warnings

from course.exercise import HINT_GENERIC, verdict_line

from autograder.families import VariantContext, copied_from, is_family
from autograder.results import ExerciseResult
from autograder.statuses import WRONG_VARIANT
from autograder.sandbox.protocol import values_from_plain
from autograder.spec import TestCell, python_source

NO_VARIANTS = VariantContext()
EXERCISE_METHODS = ("check", "check_value")
"""The calls of a course exercise cell: the visible self-check and the hidden test."""


class PartialCreditError(ValueError):
    """A test cell returned more points than it is worth: nbgrader refuses to grade the notebook."""


# --------------------------------------------------------------------------- course exercise cells

def _bound_module(node: ast.stmt, name_to_module: dict[str, str]) -> bool:
    """Record what an import of a course module binds; False for any other import."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if not alias.name.startswith("course."):
                return False
            if alias.asname:
                name_to_module[alias.asname] = alias.name
            else:
                return False  # `import course.x.y` binds `course`: not the simple form
        return True
    if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("course"):
        for alias in node.names:
            if alias.name == "*":
                return False
            name_to_module[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        return True
    return False


def _exercise_call(node: ast.stmt) -> tuple[str, str, str, str] | None:
    """(module name, exercise, method, variable) of ``name.EX.method(variable)``, else None."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return None
    call = node.value
    func = call.func
    if (isinstance(func, ast.Attribute) and func.attr in EXERCISE_METHODS and isinstance(func.value, ast.Attribute)
            and isinstance(func.value.value, ast.Name) and len(call.args) == 1 and not call.keywords
            and isinstance(call.args[0], ast.Name)):
        return func.value.value.id, func.value.attr, func.attr, call.args[0].id
    return None


@functools.lru_cache(maxsize=512)
def exercise_calls(source: str, imports: tuple[str, ...]) -> tuple[tuple[object, str, str], ...] | None:
    """``(exercise, method, variable)`` for every call of a course exercise cell, or None for any other cell."""
    try:
        body = [*(ast.parse(s).body for s in imports)]
        statements = [node for part in body for node in part] + ast.parse(python_source(source)).body
    except SyntaxError:
        return None
    modules: dict[str, str] = {}
    calls = []
    for node in statements:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if not _bound_module(node, modules):
                return None
            continue
        call = _exercise_call(node)
        if call is None or call[0] not in modules:
            return None
        calls.append(call)
    if not calls:
        return None
    resolved = []
    for name, attribute, method, variable in calls:
        try:
            exercise = getattr(importlib.import_module(modules[name]), attribute)
        except (ImportError, AttributeError):
            return None
        if not callable(getattr(exercise, "verdict", None)):
            return None
        resolved.append((exercise, method, variable))
    return tuple(resolved)


def _takes_learner(exercise) -> bool:
    """Whether ``exercise.verdict`` judges per learner (an exercise family with a variant per student)."""
    try:
        return "learner" in inspect.signature(exercise.verdict).parameters
    except (TypeError, ValueError):
        return False


WRONG_VARIANT_HINT = ("this is the answer to another student's numbers, not to yours: your notebook shows your own "
                      "numbers in the exercise's statement above; work it out with those")


def _unexplained(problem: str | None) -> bool:
    """A wrong number that is none of the listed mistakes on the learner's own variant: only such an answer may be
    another student's (a known mistake on one's own numbers that happens to equal another's answer is a mistake)."""
    return problem is not None and problem.endswith(HINT_GENERIC)


def _judge_by_verdict(test: TestCell, calls, values: dict, learner: str | None,
                      variants: VariantContext) -> ExerciseResult:
    """Judge a course exercise cell with the exercises' pure ``verdict`` (``learner``'s variant for a family).

    A family answer that is wrong for ``learner`` (and none of the listed mistakes on their numbers) but
    answers another roster student's variant scores 0 with the outcome ``wrong_variant``; only
    ``ExerciseResult.matched`` says whose.
    """
    lines = []
    for exercise, method, variable in calls:
        if variable not in values:
            return _failed(test, NameError(f"name '{variable}' is not defined"), "\n".join(lines))
        family = learner is not None and _takes_learner(exercise)
        try:
            if family:
                problem = exercise.verdict(values[variable], learner=learner, salt=variants.salt)
            else:
                problem = exercise.verdict(values[variable])
            matched = (copied_from(exercise, values[variable], learner, variants)
                       if family and _unexplained(problem) and is_family(exercise) else ())
        except Exception as error:  # a verdict that cannot decide fails the test, as running it would
            return _failed(test, error, "\n".join(lines))
        if matched:
            problem = f"`{variable}`: {WRONG_VARIANT_HINT}."
        if method == "check":
            lines.append(verdict_line(variable, problem))
        if matched:
            return ExerciseResult(test.grade_id, 0.0, test.points, WRONG_VARIANT, f"WrongVariant: {problem}",
                                  _joined(lines), "WrongVariant", matched)
        if problem is not None:
            return ExerciseResult(test.grade_id, 0.0, test.points, "failed", f"AnswerError: {problem}",
                                  _joined(lines), "AnswerError")
    return ExerciseResult(test.grade_id, test.points, test.points, "passed", "", _joined(lines))


def _joined(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


# --------------------------------------------------------------------------- any other test cell

def _judge_by_running(test: TestCell, values: dict) -> ExerciseResult:
    """Execute the full test source on the plain values; score its outputs with nbgrader's determine_grade."""
    namespace = {"__name__": "__autograder_test__", "__builtins__": builtins}
    namespace.update(values)
    for statement in test.imports:  # names the course's own locked cells import (never the learner's objects)
        exec(compile(statement, f"<imports of {test.grade_id}>", "exec"), namespace)
    source = python_source(test.source)
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    shown = last is not None and not source.rstrip().endswith(";")  # IPython hides a result ending in ';'
    stdout, stderr = io.StringIO(), io.StringIO()
    result, error = None, None
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            _fresh_kernel_warnings()
            exec(compile(ast.Module(tree.body, type_ignores=[]), f"<test {test.grade_id}>", "exec"), namespace)
            if last is not None:
                result = eval(compile(ast.Expression(last.value), f"<test {test.grade_id}>", "eval"), namespace)
    except Exception as caught:  # the verdict: any exception fails the test
        error = caught
    outputs = _outputs(stdout.getvalue(), stderr.getvalue(), result if shown else None, error)
    score = nbgrader_score(test, outputs)
    if error is not None:
        return _failed(test, error, stdout.getvalue())
    if score < test.points and stderr.getvalue():
        first = stderr.getvalue().strip().splitlines()[-1][:300] if stderr.getvalue().strip() else ""
        return ExerciseResult(test.grade_id, score, test.points, "failed",
                              f"the test wrote to stderr, which nbgrader scores 0 ({first})", stdout.getvalue(),
                              "Stderr")
    return ExerciseResult(test.grade_id, score, test.points, "passed", "", stdout.getvalue())


def _fresh_kernel_warnings() -> None:
    """Python's default warning filters with a fresh 'already shown' registry, shown on stderr as in a new kernel."""
    warnings.showwarning = _warning_to_stderr
    warnings.resetwarnings()
    warnings.simplefilter("default")
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.filterwarnings("ignore", category=category)


def _warning_to_stderr(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _outputs(stdout: str, stderr: str, result, error: Exception | None) -> list[dict]:
    """The cell's outputs as a kernel would have produced them (stdout, stderr, then the result or the error)."""
    outputs = []
    if stdout:
        outputs.append({"output_type": "stream", "name": "stdout", "text": stdout})
    if stderr:
        outputs.append({"output_type": "stream", "name": "stderr", "text": stderr})
    if error is not None:
        outputs.append({"output_type": "error", "ename": type(error).__name__, "evalue": str(error),
                        "traceback": []})
    elif result is not None:
        outputs.append({"output_type": "execute_result", "execution_count": 1, "metadata": {},
                        "data": {"text/plain": repr(result)}})
    return outputs


def nbgrader_score(test: TestCell, outputs: list[dict]) -> float:
    """nbgrader's own ``determine_grade`` on a code test cell with ``outputs``; PartialCreditError above the points."""
    from nbformat import from_dict
    from nbgrader.utils import determine_grade

    cell = from_dict({"cell_type": "code", "source": test.source, "outputs": outputs, "execution_count": 1,
                      "metadata": {"nbgrader": {"grade": True, "solution": False, "grade_id": test.grade_id,
                                                "points": test.points}}})
    try:
        score, _ = determine_grade(cell)
    except ValueError as error:
        raise PartialCreditError(f"test cell {test.grade_id!r} returned a number above its {test.points:g} "
                                 f"points; nbgrader refuses to grade such a notebook ({error}): fix the test "
                                 "cell in source/ (end it with `;` or return nothing)") from None
    return float(score)


# --------------------------------------------------------------------------- verdicts

def judge(test: TestCell, captured: dict, learner: str | None = None,
          variants: VariantContext = NO_VARIANTS) -> ExerciseResult:
    """Decide ``test`` on the captured plain values (see the module's docstring for how).

    ``learner``: the student graded; an exercise family judges the answer against that student's own
    variant, drawn with ``variants.salt``, and recognises answers to other ``variants.roster`` students'.
    """
    values = values_from_plain(captured)
    calls = exercise_calls(test.source, test.imports)
    if calls is not None:
        return _judge_by_verdict(test, calls, values, learner, variants)
    return _judge_by_running(test, values)


def _failed(test: TestCell, error: Exception, stdout: str) -> ExerciseResult:
    text = str(error).strip()
    message = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return ExerciseResult(test.grade_id, 0.0, test.points, "failed", message, stdout, type(error).__name__)


def not_reached(test: TestCell, why: str) -> ExerciseResult:
    """A test the notebook never got to (it died, hung or hit a limit first): 0 points."""
    return ExerciseResult(test.grade_id, 0.0, test.points, "not_reached", f"not reached: {why}", "", "NotReached")


def deleted(test: TestCell) -> ExerciseResult:
    """A test cell the submission deleted: put back, 0 points."""
    return ExerciseResult(test.grade_id, 0.0, test.points, "deleted",
                          "this test cell was deleted from the submission; it was put back and scores 0",
                          "", "DeletedTestCell")
