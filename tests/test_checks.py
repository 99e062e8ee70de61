"""The answer checks: plain floats only, hints for likely mistakes, never the expected value."""

from __future__ import annotations

import numpy as np
import pytest

from course import progress
from course.segments import all_segments
from course.segments.batch_size import checks as batch_size
from course.exercise import AnswerError, as_plain_float
from course.variants import Family
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
    """Anything but a finite real number gets a verdict naming the variable, and fails the hidden test."""
    assert "critical_batch_quarter" in batch_size.CRITICAL_BATCH_QUARTER.verdict(value)
    with pytest.raises(AnswerError, match="critical_batch_quarter"):
        batch_size.CRITICAL_BATCH_QUARTER.check_value(value)


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


def _all_exercises():
    """Fixed exercises of every segment; families (per-learner numbers) are tested over many learners in
    test_variants.py."""
    return [pytest.param(e, id=f"{s.assignment}-{e.variable}") for s in all_segments() for e in s.exercises()
            if not isinstance(e, Family)]


def _all_numeric_exercises():
    return [p for p in _all_exercises() if hasattr(p.values[0], "expected")]


def _right(exercise):
    return exercise.correct if hasattr(exercise, "options") else exercise.expected()


def _wrong(exercise):
    if hasattr(exercise, "options"):
        return next(letter for letter in exercise.options if letter != exercise.correct)
    return 2 * exercise.expected()


def _first_matching_hint(exercise, wrong: float, expected: float) -> str | None:
    for mistake in exercise.mistakes:
        if abs(float(mistake.wrong(expected)) - wrong) <= exercise.rel_tol * abs(wrong):
            return mistake.hint
    return None


@pytest.mark.parametrize("exercise", _all_exercises())
def test_verdict_is_pure(exercise, tmp_path, monkeypatch, capsys):
    """verdict prints nothing, writes no progress file (even in a learner's lab) and never raises, even under
    nbgrader; it is None only for the right answer."""
    store = tmp_path / "progress.json"
    monkeypatch.setenv(progress.ENV_VAR, str(store))
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert exercise.verdict(_right(exercise)) is None
    for value in (..., None, _wrong(exercise), "nonsense", [1]):
        assert exercise.verdict(value)
    assert "no answer yet" in exercise.verdict(...) and "no answer yet" in exercise.verdict(None)
    assert capsys.readouterr() == ("", "")
    assert not store.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("exercise", _all_exercises())
def test_check_prints_records_and_returns_none_in_the_lab(exercise, tmp_path, monkeypatch, capsys):
    """In the lab, check says right, wrong or "no answer yet", records it, returns None and never raises."""
    store = tmp_path / "progress.json"
    monkeypatch.setenv(progress.ENV_VAR, str(store))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert exercise.check(...) is None
    assert f"… {exercise.variable}: no answer yet" in capsys.readouterr().out
    assert progress.load(store) == {exercise.variable: False}
    assert exercise.check(_wrong(exercise)) is None
    out = capsys.readouterr().out
    assert out.startswith(f"✗ {exercise.variable}") and out.count("\n") == 1
    assert exercise.check(_right(exercise)) is None
    assert capsys.readouterr().out == f"✓ {exercise.variable}: correct.\n"
    assert progress.load(store) == {exercise.variable: True}


@pytest.mark.parametrize("mode", ["validate", "autograde"])
def test_check_raises_the_verdict_under_nbgrader(mode, monkeypatch):
    """When nbgrader runs the notebook, check raises on a missing or wrong answer, so Validate and the grader
    see it; the right answer still returns None."""
    monkeypatch.setenv("NBGRADER_EXECUTION", mode)
    exercise = batch_size.CRITICAL_BATCH_QUARTER
    with pytest.raises(AnswerError, match="no answer yet"):
        exercise.check(...)
    with pytest.raises(AnswerError, match="factor of 2"):
        exercise.check(2 * exercise.expected())
    assert exercise.check(exercise.expected()) is None


@pytest.mark.parametrize("exercise", _all_numeric_exercises())
def test_every_exercise_accepts_its_answer_in_any_numeric_type(exercise):
    """Course-wide: the reference passes as a float, a numpy scalar and within tolerance."""
    expected = exercise.expected()
    for value in (expected, np.float64(expected), expected * (1 + exercise.rel_tol / 2)):
        assert exercise.verdict(value) is None
        exercise.check_value(value)


@pytest.mark.parametrize("exercise", _all_numeric_exercises())
def test_every_exercise_names_its_mistakes_without_the_answer(exercise):
    """Course-wide: twice the answer and every listed mistake are well-formed numbers (so the learner reaches a
    hint, not a format error), are not within tolerance of the answer, and get the matching hint, in a
    verdict that never shows the answer and that the hidden test raises."""
    expected = exercise.expected()
    for wrong in (2 * expected, *(float(m.wrong(expected)) for m in exercise.mistakes)):
        assert abs(wrong - expected) > exercise.rel_tol * abs(expected), f"{exercise.variable}: {wrong} is accepted"
        message = exercise.verdict(wrong)
        assert message and "not yet right" in message.lower(), message
        hint = _first_matching_hint(exercise, wrong, expected)
        if hint is not None:
            assert hint in message
        assert not shows_number(message, expected), message
        with pytest.raises(AnswerError) as caught:
            exercise.check_value(wrong)
        assert str(caught.value) == message


@pytest.mark.parametrize("exercise", _all_numeric_exercises())
def test_every_exercise_hides_its_answer_from_arbitrary_wrong_values(exercise):
    """Course-wide: nearby, negative and unit-slipped wrong answers never see the answer in their verdict."""
    expected = exercise.expected()
    for wrong in (expected * 1.3, expected * 0.7, -expected, expected / 1000):
        message = exercise.verdict(wrong)
        assert message and not shows_number(message, expected), message
