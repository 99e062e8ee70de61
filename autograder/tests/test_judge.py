"""The trusted judge: plain values only, nbgrader's scoring rules, no way for learner data to fake a pass."""

from __future__ import annotations

from autograder.judge import decode_value, judge
from autograder.spec import TestCell, remove_hidden_tests, variables_read


def make_test(source: str, points: float = 2.0) -> TestCell:
    return TestCell("t", points, source, remove_hidden_tests(source), variables_read(source), 0)


def test_values_are_revalidated():
    assert decode_value({"t": "float", "v": 1.5}) == 1.5
    assert decode_value({"t": "int", "v": 3}) == 3
    assert decode_value({"t": "str", "v": "b"}) == "b"
    assert decode_value({"t": "float", "v": "nan"}) != decode_value({"t": "float", "v": "nan"})
    for forged in ({"t": "int", "v": "1200"}, {"t": "bool", "v": 1}, {"t": "str", "v": ["x"]},
                   {"t": "float", "v": {"__eq__": True}}, "1200", {"t": "int", "v": 10 ** 400}):
        value = decode_value(forged)
        assert type(value).__name__ == "invalid" and value != value.__class__()


def test_an_object_that_is_not_plain_data_keeps_only_its_type_name():
    value = decode_value({"t": "other", "type": "AlwaysEqual"})
    assert type(value).__name__ == "AlwaysEqual" and value != 1200.0 and not (value == 1200.0)


def test_course_checks_judge_plain_values():
    source = ("from course.segments.batch_size import checks\n"
              "checks.CRITICAL_BATCH_QUARTER.check_format(critical_batch_quarter)\n"
              "### BEGIN HIDDEN TESTS\ncheck = checks.CRITICAL_BATCH_QUARTER.check_value(critical_batch_quarter)\n"
              "### END HIDDEN TESTS")
    test = make_test(source, 1)
    right = judge(test, {"critical_batch_quarter": {"t": "float", "v": 1200.0}})
    assert right.passed and right.score == 1 and "correct" in right.stdout
    wrong = judge(test, {"critical_batch_quarter": {"t": "float", "v": 2400.0}})
    assert wrong.score == 0 and "not yet right" in wrong.message and "1200" not in wrong.message
    cheat = judge(test, {"critical_batch_quarter": {"t": "other", "type": "AlwaysEqual"}})
    assert cheat.score == 0 and "AlwaysEqual" in cheat.message
    missing = judge(test, {"critical_batch_quarter": {"t": "missing"}})
    assert missing.score == 0 and "NameError" in missing.message


def test_partial_credit_follows_nbgrader():
    test = make_test("answer * 0 + 0.5")
    assert judge(test, {"answer": {"t": "int", "v": 1}}).score == 0.5
    assert judge(make_test("'text'"), {}).score == 2.0
    assert judge(make_test("assert answer == 1"), {"answer": {"t": "int", "v": 2}}).score == 0.0


def test_names_imported_by_the_course_s_locked_cells_come_from_the_host_not_the_learner():
    from autograder.spec import import_statements

    imports = import_statements(["import numpy as np\nfrom course.segments.batch_size import checks\nx = 1"])
    assert imports == {"np": "import numpy as np", "checks": "from course.segments.batch_size import checks"}
    source = "assert np.isclose(answer, 3.0)"
    test = TestCell("t", 1.0, source, source, ("answer",), 0, (imports["np"],))
    assert judge(test, {"answer": {"t": "float", "v": 3.0}, "np": {"t": "other", "type": "FakeNumpy"}}).passed
