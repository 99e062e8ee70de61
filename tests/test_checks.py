"""The answer checks: plain floats only, hints for likely mistakes, never the expected value."""

from __future__ import annotations

import numpy as np
import pytest

from course.segments.batch_size import checks as batch_size
from course.exercise import AnswerError, as_plain_float
from tests.notebooks import shows_number


class AlwaysEqual:
    __eq__ = lambda self, other: True  # noqa: E731
    __hash__ = object.__hash__


class SneakyFloat(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


@pytest.mark.parametrize("value", [AlwaysEqual(), "1200", None, True, [1200], float("nan"), float("inf")])
def test_non_numbers_are_rejected_with_a_message(value):
    """Anything but a finite real number fails the format check, with a message naming the variable."""
    with pytest.raises(AnswerError, match="critical_batch_quarter"):
        batch_size.CRITICAL_BATCH_QUARTER.check_format(value)


def test_float_subclass_is_judged_by_its_value():
    """A float subclass whose __eq__ lies is reduced to its plain value first."""
    plain = as_plain_float(SneakyFloat(3.0), "x")
    assert type(plain) is float and plain == 3.0
    with pytest.raises(AnswerError):
        batch_size.CRITICAL_BATCH_QUARTER.check_value(SneakyFloat(3.0))


@pytest.mark.parametrize("exercise", [e for e in batch_size.EXERCISES if hasattr(e, "expected")],
                         ids=lambda e: e.variable)
def test_expected_value_passes_and_numpy_scalars_are_fine(exercise):
    """The reference value passes, as a Python float or a numpy scalar."""
    exercise.check_value(exercise.expected())
    exercise.check_value(np.float64(exercise.expected()))


@pytest.mark.parametrize("wrong, hint", [(75.0, "multiplied by the active fraction"),
                                         (2400.0, "factor of 2"), (1.2, "factor of 1000")])
def test_likely_mistakes_get_named(wrong, hint):
    """Inverted ratio, factor 2 and unit slips each get their own hint."""
    with pytest.raises(AnswerError, match=hint):
        batch_size.CRITICAL_BATCH_QUARTER.check_value(wrong)


def test_drain_time_in_milliseconds_is_a_unit_slip():
    """14.4 (ms) instead of 0.0144 s names the unit problem."""
    with pytest.raises(AnswerError, match="units"):
        batch_size.RUBIN_DRAIN_TIME_S.check_value(batch_size.RUBIN_DRAIN_TIME_S.expected() * 1000)


def test_cost_without_kv_and_per_gpu_mistakes():
    """The cost exercise recognises a forgotten KV cache and a one-GPU price."""
    exercise = batch_size.COST_PER_MILLION_TOKENS
    with pytest.raises(AnswerError, match="KV-cache"):
        exercise.check_value(batch_size._cost(include_kv=False))
    with pytest.raises(AnswerError, match="one GPU"):
        exercise.check_value(exercise.expected() / 8)


def test_messages_never_contain_the_expected_value():
    """No failure message reveals the answer."""
    for exercise in batch_size.EXERCISES:
        if not hasattr(exercise, "expected"):
            continue
        expected = exercise.expected()
        for wrong in (expected * 2, expected / 1000, expected * 1.3, -expected):
            with pytest.raises(AnswerError) as caught:
                exercise.check_value(wrong)
            message = str(caught.value)
            assert f"{expected:g}" not in message and f"{expected:.3g}" not in message


def test_choice_exercise():
    """The right letter passes in any case; a wrong one explains itself; a non-option is a format error."""
    exercise = batch_size.GAP_EXPLANATION
    exercise.check_value(" B ")
    with pytest.raises(AnswerError, match="fp8"):
        exercise.check_value("c")
    with pytest.raises(AnswerError, match="one of"):
        exercise.check_value("z")
    with pytest.raises(AnswerError):
        exercise.check_value(AlwaysEqual())


def _all_numeric_exercises():
    from course.segments import SEGMENTS

    return [pytest.param(e, id=f"{s.assignment}-{e.variable}") for s in SEGMENTS for e in s.exercises()
            if hasattr(e, "expected")]


def _first_matching_hint(exercise, wrong: float, expected: float) -> str | None:
    for mistake in exercise.mistakes:
        if abs(float(mistake.wrong(expected)) - wrong) <= exercise.rel_tol * abs(wrong):
            return mistake.hint
    return None


@pytest.mark.parametrize("exercise", _all_numeric_exercises())
def test_every_exercise_accepts_its_answer_in_any_numeric_type(exercise, capsys):
    """Course-wide: the reference passes as a float, a numpy scalar and within tolerance, and self-checks as correct."""
    expected = exercise.expected()
    for value in (expected, np.float64(expected), expected * (1 + exercise.rel_tol / 2)):
        exercise.check_value(value)
    exercise.check_format(expected)
    assert f"✓ {exercise.variable}: correct." in capsys.readouterr().out


@pytest.mark.parametrize("exercise", _all_numeric_exercises())
def test_every_exercise_names_its_mistakes_without_the_answer(exercise, capsys):
    """Course-wide: twice the answer and every listed mistake pass the format check (so the learner reaches a
    hint, not a format error), are not within tolerance of the answer, and fail with the matching hint,
    in a message that never shows the answer."""
    expected = exercise.expected()
    for wrong in (2 * expected, *(float(m.wrong(expected)) for m in exercise.mistakes)):
        assert abs(wrong - expected) > exercise.rel_tol * abs(expected), f"{exercise.variable}: {wrong} is accepted"
        exercise.check_format(wrong)
        assert "✗" in capsys.readouterr().out
        with pytest.raises(AnswerError) as caught:
            exercise.check_value(wrong)
        message = str(caught.value)
        assert "not yet right" in message.lower()
        hint = _first_matching_hint(exercise, wrong, expected)
        if hint is not None:
            assert hint in message
        assert not shows_number(message, expected), message


@pytest.mark.parametrize("exercise", _all_numeric_exercises())
def test_every_exercise_hides_its_answer_from_arbitrary_wrong_values(exercise):
    """Course-wide: nearby, negative and unit-slipped wrong answers never see the answer in their message."""
    expected = exercise.expected()
    for wrong in (expected * 1.3, expected * 0.7, -expected, expected / 1000):
        with pytest.raises(AnswerError) as caught:
            exercise.check_value(wrong)
        assert not shows_number(str(caught.value), expected), str(caught.value)
