"""The trusted judge: plain values only, nbgrader's scoring rules, no way for learner data to fake a pass."""

from __future__ import annotations

import pytest

from autograder.judge import PartialCreditError, exercise_calls, judge
from autograder.sandbox.protocol import from_plain
from autograder.spec import TestCell, remove_hidden_tests, variables_read

CHECK_CELL = ("from course.segments.batch_size import checks\n"
              "checks.CRITICAL_BATCH_QUARTER.check(critical_batch_quarter)\n"
              "### BEGIN HIDDEN TESTS\nchecks.CRITICAL_BATCH_QUARTER.check_value(critical_batch_quarter)\n"
              "### END HIDDEN TESTS")


def make_test(source: str, points: float = 2.0) -> TestCell:
    return TestCell("t", points, source, remove_hidden_tests(source), variables_read(source), 0)


def test_values_are_revalidated():
    assert from_plain({"t": "float", "v": 1.5}) == 1.5
    assert from_plain({"t": "int", "v": 3}) == 3
    assert from_plain({"t": "str", "v": "b"}) == "b"
    assert from_plain({"t": "float", "v": "nan"}) != from_plain({"t": "float", "v": "nan"})
    for forged in ({"t": "int", "v": "1200"}, {"t": "bool", "v": 1}, {"t": "str", "v": ["x"]},
                   {"t": "float", "v": {"__eq__": True}}, "1200", {"t": "int", "v": 10 ** 400}):
        value = from_plain(forged)
        assert type(value).__name__ == "invalid" and value != value.__class__()


def test_an_object_that_is_not_plain_data_keeps_only_its_type_name():
    value = from_plain({"t": "other", "type": "AlwaysEqual"})
    assert type(value).__name__ == "AlwaysEqual" and value != 1200.0 and not (value == 1200.0)


def test_course_exercise_cells_are_judged_by_the_pure_verdict():
    from course.segments.batch_size import checks

    test = make_test(CHECK_CELL, 1)
    calls = exercise_calls(test.source, test.imports)
    assert [(exercise, method) for exercise, method, _ in calls] == [(checks.CRITICAL_BATCH_QUARTER, "check"),
                                                                      (checks.CRITICAL_BATCH_QUARTER, "check_value")]
    right_value = float(checks.CRITICAL_BATCH_QUARTER.expected())
    right = judge(test, {"critical_batch_quarter": {"t": "float", "v": right_value}})
    assert right.passed and right.score == 1 and "correct" in right.stdout
    wrong = judge(test, {"critical_batch_quarter": {"t": "float", "v": 2 * right_value}})
    assert wrong.score == 0 and wrong.message == f"AnswerError: {checks.CRITICAL_BATCH_QUARTER.verdict(2 * right_value)}"
    assert f"{right_value:g}" not in wrong.message
    cheat = judge(test, {"critical_batch_quarter": {"t": "other", "type": "AlwaysEqual"}})
    assert cheat.score == 0 and "AlwaysEqual" in cheat.message
    missing = judge(test, {"critical_batch_quarter": {"t": "missing"}})
    assert missing.score == 0 and "NameError" in missing.message


def test_judging_a_check_cell_never_writes_the_progress_file(tmp_path, monkeypatch):
    """A visible check() records progress in the lab; the judge calls only the pure verdict."""
    progress = tmp_path / "progress.json"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(progress))
    from course.segments.batch_size import checks

    checks.CRITICAL_BATCH_QUARTER.check(1.0)  # the notebook edge does write it (the reference)
    assert progress.exists()
    progress.unlink()
    judge(make_test(CHECK_CELL, 1), {"critical_batch_quarter": {"t": "float", "v": 1.0}})
    assert not progress.exists()


def test_other_cells_run_and_partial_credit_follows_nbgrader():
    test = make_test("answer * 0 + 0.5")
    assert judge(test, {"answer": {"t": "int", "v": 1}}).score == 0.5
    assert judge(make_test("'text'"), {}).score == 2.0
    assert judge(make_test("answer * 0 + 0.5;"), {"answer": {"t": "int", "v": 1}}).score == 2.0
    assert judge(make_test("assert answer == 1"), {"answer": {"t": "int", "v": 2}}).score == 0.0
    assert judge(make_test("-1"), {}).score == 2.0


def test_a_returned_number_above_the_points_raises_as_in_nbgrader():
    with pytest.raises(PartialCreditError, match="above its 2 points"):
        judge(make_test("answer"), {"answer": {"t": "float", "v": 1200.0}})


def test_output_on_stderr_scores_zero_as_in_nbgrader():
    quiet = judge(make_test("import sys\nprint('fine')"), {})
    assert quiet.score == 2.0 and quiet.stdout == "fine\n"
    loud = judge(make_test("import sys\nsys.stderr.write('careful')"), {})
    assert loud.score == 0 and "stderr" in loud.message and "careful" in loud.message
    for _ in range(2):  # a warning counts every time, as in a fresh kernel per notebook
        warned = judge(make_test("import warnings\nwarnings.warn('odd value')"), {})
        assert warned.score == 0 and "odd value" in warned.message


def test_names_imported_by_the_course_s_locked_cells_come_from_the_host_not_the_learner():
    from autograder.spec import import_statements

    imports = import_statements(["import numpy as np\nfrom course.segments.batch_size import checks\nx = 1"])
    assert imports == {"np": "import numpy as np", "checks": "from course.segments.batch_size import checks"}
    source = "assert np.isclose(answer, 3.0)"
    test = TestCell("t", 1.0, source, source, ("answer",), 0, (imports["np"],))
    assert judge(test, {"answer": {"t": "float", "v": 3.0}, "np": {"t": "other", "type": "FakeNumpy"}}).passed


def test_an_exercise_family_is_judged_against_the_graded_student_s_own_variant():
    from course.segments.batch_size import checks

    family = checks.CRITICAL_BATCH_OWN
    answers = {name: float(family.exercise(family.params(name)).expected()) for name in ("alice", "bob", "carol")}
    alice, other = "alice", next(n for n in ("bob", "carol") if answers[n] != answers["alice"])
    test = make_test("from course.segments.batch_size import checks\n"
                     "checks.CRITICAL_BATCH_OWN.check(critical_batch_own)\n", 1)
    captured = {"critical_batch_own": {"t": "float", "v": answers[alice]}}
    assert judge(test, captured, learner=alice).score == 1
    assert judge(test, captured, learner=other).score == 0


FAMILY_CELL = ("from course.segments.batch_size import checks\n"
               "checks.CRITICAL_BATCH_OWN.check(critical_batch_own)\n"
               "### BEGIN HIDDEN TESTS\nchecks.CRITICAL_BATCH_OWN.check_value(critical_batch_own)\n"
               "### END HIDDEN TESTS")


def test_ellipsis_crosses_the_sandbox_wall_and_reads_no_answer_yet():
    """The answer cells' ``...`` placeholder is plain data: the judge says "no answer yet", as the check cell does."""
    from autograder.sandbox.protocol import to_plain

    assert to_plain(...) == {"t": "ellipsis"} and from_plain({"t": "ellipsis"}) is Ellipsis
    result = judge(make_test(CHECK_CELL, 1), {"critical_batch_quarter": to_plain(...)})
    assert result.score == 0 and "no answer yet" in result.message and "ellipsis" not in result.message
    assert result.stdout.startswith("… critical_batch_quarter: no answer yet")


def test_copied_from_finds_exactly_the_students_whose_variant_an_answer_fits():
    """The index lookup names the same students as asking ``answers_variant_of`` of the whole roster, for every
    student's own answer, over 300 students and two salts."""
    from course.segments.batch_size import checks
    from course.variants import families

    from autograder.families import VariantContext, copied_from

    roster = tuple(f"learner{n:03d}" for n in range(300))
    for salt in ("", "a-salt"):
        context = VariantContext(salt, roster)
        for family in families(checks):
            for student in roster[:40]:
                value = float(family.answer(family.params(student, salt=salt)))
                brute = sorted(s for s in family.answers_variant_of(value, roster, salt=salt) if s != "learner299")
                assert list(copied_from(family, value, "learner299", context)) == brute
                assert student in brute
            assert copied_from(family, -1.0, "learner299", context) == ()
            assert copied_from(family, "12", "learner299", context) == ()


def test_a_family_answer_for_another_student_is_wrong_variant_but_a_known_mistake_is_not():
    """Another roster student's answer scores 0 as ``wrong_variant`` (whose only in ``matched``); the same student's
    own right answer passes; a listed mistake on one's own numbers stays a plain failure with its hint."""
    from course.segments.batch_size import checks

    from autograder.families import VariantContext

    family, salt = checks.CRITICAL_BATCH_OWN, "s"
    own, other = "ann", next(s for s in (f"bob{n}" for n in range(100))
                              if family.answer(family.params(s, salt=salt)) != family.answer(family.params("ann", salt=salt)))
    context = VariantContext(salt, (own, other))
    test = make_test(FAMILY_CELL, 1)
    theirs = float(family.answer(family.params(other, salt=salt)))
    mine = float(family.answer(family.params(own, salt=salt)))
    copied = judge(test, {"critical_batch_own": {"t": "float", "v": theirs}}, own, context)
    assert copied.outcome == "wrong_variant" and copied.score == 0 and copied.matched == (other,)
    assert other not in copied.message and "another student's numbers" in copied.message
    assert "matched" not in copied.as_dict()
    assert judge(test, {"critical_batch_own": {"t": "float", "v": mine}}, own, context).passed
    doubled = next(s for s in (f"carol{n}" for n in range(3000)) if family.verdict(2 * mine, learner=s, salt=salt) is None)
    mistake = judge(test, {"critical_batch_own": {"t": "float", "v": 2 * mine}}, own,
                    VariantContext(salt, (own, other, doubled)))  # 2x ann's answer is exactly `doubled`'s answer
    assert mistake.outcome == "failed" and "factor of 2" in mistake.message and not mistake.matched
