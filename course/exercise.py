"""Exercise definitions and the answer-checking machinery shared by every segment."""

from __future__ import annotations

import math
import numbers
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
    if value is None or value is Ellipsis:
        raise AnswerError(f"`{name}` has no answer yet: replace the placeholder and run the cell.")
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


def report_self_check(variable: str, problem: str | None) -> None:
    """Print the learner's verdict and remember it in their progress file (if the lab set one)."""
    if problem is None:
        print(f"✓ {variable}: correct.")
    else:
        print(f"✗ {problem.replace(f'`{variable}`: ', f'{variable}: ', 1)}")
    progress.record(variable, problem is None)


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
            format check already warns (and names the unit). None to skip.
    """

    variable: str
    unit: str
    expected: Callable[[], float] = field(repr=False)
    rel_tol: float = 0.02
    mistakes: tuple[Mistake, ...] = COMMON_MISTAKES
    positive: bool = True
    magnitude: tuple[float, float] | None = None

    def check_format(self, value) -> float:
        """Visible test: raise on a format problem; otherwise print the self-check verdict and return the number.

        The verdict (correct, or the hint) is printed, never raised: the grade
        comes from the hidden test, the learner just learns at once where they stand.
        """
        number = self._parse(value)
        report_self_check(self.variable, self._verdict(number))
        return number

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
        """Hidden test: pass silently, or raise AnswerError naming the likely mistake."""
        problem = self._verdict(self._parse(value))
        if problem is not None:
            raise AnswerError(problem)

    def _verdict(self, number: float) -> str | None:
        """None when right, else the message naming the likely mistake (never the expected value)."""
        expected = float(self.expected())
        if _close(number, expected, self.rel_tol):
            return None
        for mistake in self.mistakes:
            if _close(number, float(mistake.wrong(expected)), self.rel_tol):
                return f"`{self.variable}`: not yet right. {mistake.hint}"
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

    def check_format(self, value) -> str:
        """Visible test: raise unless one of the option letters; print the self-check verdict; return the letter."""
        letter = self._parse(value)
        report_self_check(self.variable, self._verdict(letter))
        return letter

    def _parse(self, value) -> str:
        if value is None or value is Ellipsis:
            raise AnswerError(f"`{self.variable}` has no answer yet: set it to one of {sorted(self.options)}.")
        if type(value) is not str and not isinstance(value, str):
            raise AnswerError(f"`{self.variable}` should be a letter in quotes, e.g. \"a\".")
        letter = str.lower(str.strip(str(value)))
        if letter not in self.options:
            raise AnswerError(f"`{self.variable}` should be one of {sorted(self.options)}, got {letter!r}.")
        return letter

    def check_value(self, value) -> None:
        """Hidden test: pass silently, or raise AnswerError explaining the wrong option."""
        problem = self._verdict(self._parse(value))
        if problem is not None:
            raise AnswerError(problem)

    def _verdict(self, letter: str) -> str | None:
        if letter == self.correct:
            return None
        return f"`{self.variable}`: not this one. {self.hints.get(letter, HINT_GENERIC)}"
