"""Exercise definitions and the answer-checking machinery shared by every segment."""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, field
from typing import Callable

from course import progress


class AnswerError(AssertionError):
    """A learner's answer is missing, malformed or wrong; the message says what to look at."""


HINT_FACTOR_TWO = ("You are off by exactly a factor of 2: check how many FLOPs a parameter costs per token "
                   "(a multiply and an add) and how many bytes a weight takes.")
HINT_UNIT_1000 = ("You are off by exactly a factor of 1000: check your units (ms vs s, GB vs TB, "
                  "thousands vs millions).")
HINT_UNIT_1E6 = "You are off by a factor of a million: check per token vs per million tokens."
HINT_GENERIC = "Not yet right. Re-read the derivation above and redo the calculation step by step."


def as_plain_float(value, name: str) -> float:
    """Return ``value`` as a built-in float, or raise AnswerError saying what is wrong with it.

    Accepts int, float and numpy real scalars (and their subclasses, reduced to
    their numeric value). Rejects bool, strings, None, containers and any other
    object, whatever its ``__eq__`` says.
    """
    if _unanswered(value):
        raise AnswerError(f"`{name}`: {NO_ANSWER}: replace the ... with your answer and run the cell.")
    if isinstance(value, bool):
        raise AnswerError(f"`{name}` should be a number, not True/False.")
    if isinstance(value, str):
        raise AnswerError(f"`{name}` should be a number, not a string: remove the quotes.")
    if not isinstance(value, numbers.Real):
        kind = type(value).__name__
        raise AnswerError(f"`{name}` should be a plain number (int or float), got an object of type {kind}.")
    try:
        plain = math.fsum((float(value),))  # fsum always returns a built-in float
    except (TypeError, ValueError, OverflowError) as error:
        raise AnswerError(f"`{name}` could not be read as a number ({error}).") from None
    if not math.isfinite(plain):
        raise AnswerError(f"`{name}` is {plain}; it should be a finite number.")
    return plain


NO_ANSWER = "no answer yet"
"""The words every check cell uses for an exercise that still holds its placeholder."""

GRADER_RUNS = ("validate", "autograde")
"""Values nbgrader gives the environment variable ``NBGRADER_EXECUTION`` in the kernel it runs."""


def _unanswered(value) -> bool:
    return value is None or value is Ellipsis


def verdict_line(variable: str, problem: str | None) -> str:
    """The one-line verdict every check shows: "✓ x: correct.", "✗ <problem>" or "… <no answer yet>".

    Pure. Used by the notebook's check cells (``report``) and by the grader's judge and feedback.

    Args:
        variable: the exercise's variable name.
        problem: the verdict, None when right.
    """
    if problem is None:
        return f"✓ {variable}: correct."
    mark = "…" if problem.startswith(f"`{variable}`: {NO_ANSWER}") else "✗"
    return f"{mark} {problem.replace(f'`{variable}`', variable, 1)}"


def report(variable: str, problem: str | None) -> None:
    """The notebook edge of a check: print its ``verdict_line`` and record it in the learner's progress file.

    Under nbgrader (``NBGRADER_EXECUTION`` is "validate" or "autograde") a problem is
    also raised as AnswerError, so Validate and the grader see it; in the lab it never raises,
    so Run All goes on to the end.

    Args:
        variable: the exercise's variable name.
        problem: the verdict, None when right.
    """
    print(verdict_line(variable, problem))
    progress.record(variable, problem is None)
    if problem is not None and os.environ.get("NBGRADER_EXECUTION") in GRADER_RUNS:
        raise AnswerError(problem)


def _close(actual: float, expected: float, rel: float) -> bool:
    """Relative closeness without math.isclose (which a submission could patch)."""
    return abs(actual - expected) <= rel * abs(expected)


@dataclass(frozen=True)
class Mistake:
    """A specific wrong answer a learner is likely to reach, and what to say about it.

    ``wrong`` maps the expected value to the value this mistake produces.
    """

    wrong: Callable[[float], float]
    hint: str


def off_by(factor: float, hint: str) -> tuple[Mistake, Mistake]:
    """The two mistakes of being ``factor`` too high and ``factor`` too low."""
    return (Mistake(lambda e: e * factor, hint), Mistake(lambda e: e / factor, hint))


COMMON_MISTAKES: tuple[Mistake, ...] = (*off_by(2.0, HINT_FACTOR_TWO), *off_by(1000.0, HINT_UNIT_1000))


@dataclass(frozen=True)
class Exercise:
    """A numeric exercise: which variable holds the answer, how it is computed, how it is judged.

    Attributes:
        variable: name of the learner's variable in the notebook.
        unit: unit the answer is asked in, shown in format messages.
        expected: computes the reference value from ``course.models`` (called lazily).
        rel_tol: accepted relative error [fraction].
        mistakes: likely wrong answers with their hints, checked in order.
        positive: the answer must be > 0.
        magnitude: (low, high) bounds a sensible answer lies in; outside them the
            verdict already warns (and names the unit). None to skip.
    """

    variable: str
    unit: str
    expected: Callable[[], float] = field(repr=False)
    rel_tol: float = 0.02
    mistakes: tuple[Mistake, ...] = COMMON_MISTAKES
    positive: bool = True
    magnitude: tuple[float, float] | None = None

    def verdict(self, value) -> str | None:
        """None when ``value`` is right, else what is wrong: no answer yet, its format, or the likely mistake.

        Pure: prints nothing and records nothing. Never shows the expected value.
        """
        try:
            number = self._parse(value)
        except AnswerError as problem:
            return str(problem)
        return self._judge(number)

    def check(self, value) -> None:
        """The check cell under the answer: print whether it is right (and the hint if not); return None."""
        report(self.variable, self.verdict(value))

    def _parse(self, value) -> float:
        number = as_plain_float(value, self.variable)
        if self.positive and number <= 0:
            raise AnswerError(f"`{self.variable}` should be positive (in {self.unit}).")
        if self.magnitude is not None:
            low, high = self.magnitude
            if not low <= abs(number) <= high:
                raise AnswerError(
                    f"`{self.variable}` = {number:g} is far outside the sensible range for this quantity: "
                    f"is it in {self.unit}?")
        return number

    def check_value(self, value) -> None:
        """Hidden test: pass silently, or raise AnswerError with the verdict."""
        problem = self.verdict(value)
        if problem is not None:
            raise AnswerError(problem)

    def _judge(self, number: float) -> str | None:
        """None when right, else the message naming the likely mistake (never the expected value)."""
        expected = float(self.expected())
        if _close(number, expected, self.rel_tol):
            return None
        hints = []  # every listed mistake that lands on this number: two slips can give the same value
        for mistake in self.mistakes:
            if _close(number, float(mistake.wrong(expected)), self.rel_tol) and mistake.hint not in hints:
                hints.append(mistake.hint)
        if hints:
            return f"`{self.variable}`: not yet right. " + " Or: ".join(hints)
        return f"`{self.variable}`: {HINT_GENERIC}"


@dataclass(frozen=True)
class ChoiceExercise:
    """A multiple-choice exercise answered with one letter.

    Attributes:
        variable: name of the learner's variable.
        options: letter -> option text (shown in the notebook).
        correct: the right letter.
        hints: letter -> why that option is wrong.
    """

    variable: str
    options: dict[str, str]
    correct: str = field(repr=False)
    hints: dict[str, str] = field(default_factory=dict, repr=False)

    def verdict(self, value) -> str | None:
        """None when ``value`` is the right letter, else why not (no answer yet, not an option, or the hint).

        Pure: prints nothing and records nothing.
        """
        try:
            letter = self._parse(value)
        except AnswerError as problem:
            return str(problem)
        return self._judge(letter)

    def check(self, value) -> None:
        """The check cell under the answer: print whether it is right (and the hint if not); return None."""
        report(self.variable, self.verdict(value))

    def _parse(self, value) -> str:
        if _unanswered(value):
            raise AnswerError(f"`{self.variable}`: {NO_ANSWER}: replace the ... with one of {sorted(self.options)} "
                              "and run the cell.")
        if type(value) is not str and not isinstance(value, str):
            raise AnswerError(f"`{self.variable}` should be a letter in quotes, e.g. \"a\".")
        letter = str.lower(str.strip(str(value)))
        if letter not in self.options:
            raise AnswerError(f"`{self.variable}` should be one of {sorted(self.options)}, got {letter!r}.")
        return letter

    def check_value(self, value) -> None:
        """Hidden test: pass silently, or raise AnswerError with the verdict."""
        problem = self.verdict(value)
        if problem is not None:
            raise AnswerError(problem)

    def _judge(self, letter: str) -> str | None:
        if letter == self.correct:
            return None
        return f"`{self.variable}`: not this one. {self.hints.get(letter, HINT_GENERIC)}"
