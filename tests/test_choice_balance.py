"""Multiple choice cannot be won by picking the longest option (issue 11, section 3).

Course-wide, over every ChoiceExercise in the segment registry: the correct option is the longest
(strictly or tied) in at most a third of the questions, and in no question is it more than 1.5 times
the mean length of the other options.
"""

from __future__ import annotations

import pytest

from course.exercise import ChoiceExercise
from course.segments import all_segments

LONGEST_SHARE_MAX = 1 / 3
"""Largest share of questions whose correct option may be the longest [fraction]."""

LENGTH_RATIO_MAX = 1.5
"""Largest ratio of the correct option's length to the mean length of the others [ratio]."""


def choice_questions() -> list[tuple[str, ChoiceExercise]]:
    """(assignment/variable, exercise) of every multiple-choice question in the course."""
    return [(f"{s.assignment}/{e.variable}", e) for s in all_segments() for e in s.exercises()
            if isinstance(e, ChoiceExercise)]


def length_ratio(exercise: ChoiceExercise) -> float:
    """Characters of the correct option over the mean characters of the others [ratio]."""
    others = [len(text) for letter, text in exercise.options.items() if letter != exercise.correct]
    return len(exercise.options[exercise.correct]) / (sum(others) / len(others))


def correct_is_longest(exercise: ChoiceExercise) -> bool:
    """Whether no other option is longer than the correct one."""
    right = len(exercise.options[exercise.correct])
    return all(len(text) <= right for text in exercise.options.values())


def test_the_helpers_can_fail():
    """The measures flag a question built to be won by length, and pass a balanced one."""
    lopsided = ChoiceExercise("x", {"a": "short", "b": "a much longer and more specific right answer",
                                    "c": "brief"}, correct="b")
    balanced = ChoiceExercise("y", {"a": "one option of words", "b": "the right one",
                                    "c": "third option words!"}, correct="b")
    assert correct_is_longest(lopsided) and length_ratio(lopsided) > LENGTH_RATIO_MAX
    assert not correct_is_longest(balanced) and length_ratio(balanced) < LENGTH_RATIO_MAX


def test_the_course_has_choice_questions():
    assert len(choice_questions()) >= 2


@pytest.mark.parametrize("name, exercise", [pytest.param(n, e, id=n) for n, e in choice_questions()])
def test_correct_option_is_not_much_longer_than_the_others(name, exercise):
    ratio = length_ratio(exercise)
    assert ratio <= LENGTH_RATIO_MAX, (
        f"{name}: the correct option ({exercise.correct!r}) is {ratio:.2f}x the mean length of the others "
        f"(at most {LENGTH_RATIO_MAX}); shorten it or make the others as specific")


def test_correct_option_is_rarely_the_longest():
    questions = choice_questions()
    longest = [name for name, exercise in questions if correct_is_longest(exercise)]
    assert len(longest) <= LONGEST_SHARE_MAX * len(questions), (
        f"the correct option is the longest in {len(longest)} of {len(questions)} questions "
        f"(at most a third): {', '.join(longest)}")
