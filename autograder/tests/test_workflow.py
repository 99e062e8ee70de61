"""The whole instructor workflow on a fixture cohort: roster, collect (zip), grade, export, feedback.

One module-scoped run grades every fixture learner of ``cases.py`` (honest, broken and
hostile) in a single batch, then each test checks one promise against it.
"""

from __future__ import annotations

import contextlib
import html
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder import statuses
from autograder.cli import main
from autograder.course import course_source_root
from autograder.feedback import hidden_fragments
from autograder.records import stored_results
from autograder.spec import load_assignment
from autograder.tests.builders import learner_notebook
from autograder.families import is_family, write_salt
from autograder.tests.builders import exercise_of, right_value
from autograder.tests.cases import COPIED_VARIANT, OWN_VARIANT, VARIANT_SALT, build_cases
from autograder.tests.conftest import SEGMENT_1, clone_cohort, needs_bwrap

pytestmark = needs_bwrap
GRADE_OPTIONS = ["--jobs", "2", "--timeout", "20", "--memory-mb", "1024", "--output-mb", "2", "--max-processes", "48"]
ENV_CANARY = "AUTOGRADER_TEST_ANSWER"


def run_cli(*args) -> tuple[int, str]:
    """Run ``python -m autograder`` in-process; return (exit code, stdout + stderr)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        code = main([str(a) for a in args])
    return code, buffer.getvalue()


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def world(template_cohort, tmp_path_factory, segment1):
    """The fixture cohort (SQLite gradebook) after roster, collect, grade and export."""
    base = tmp_path_factory.mktemp("workflow")
    return build_world(clone_cohort(template_cohort, base / "cohort"), base, segment1)


def build_world(cohort, base: Path, segment1) -> dict:
    """Run roster, collect, grade and export on ``cohort`` (any gradebook); return what each test checks."""
    other = load_assignment(course_source_root(), "02-moe-racks")
    cases = build_cases(segment1, cohort.root, other)
    roster = base / "roster.csv"
    lines = ["id,first_name,last_name,email,lms_user_id"]
    lms_ids = {"s26-lms-name": "4711"}  # the LMS-named file names its student by LMS user id only
    lines += [f"{c.student},First,{c.student},{c.student}@example.org,{lms_ids.get(c.student, '')}" for c in cases]
    lines += ["s99-absent,Absent,Student,,", ",No,Id,,", "bad/id,Bad,Id,,", "s01-right,Dup,Licate,,"]
    roster.write_text("\n".join(lines) + "\n")
    upload = base / "lms-download.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        for case in cases:
            for name, data in case.files.items():
                path = name if name.startswith("doe_26_4711_") else f"{case.student}/{name}"
                archive.writestr(path, data)
        archive.writestr("stranger/01-batch-size.ipynb", b"{}")
        archive.writestr("__MACOSX/._junk", b"junk")
    os.environ[ENV_CANARY] = "1200"
    salt_run = run_cli("salt", cohort.root, VARIANT_SALT)
    try:
        roster_run = run_cli("roster", cohort.root, roster)
        collect_run = run_cli("collect", cohort.root, SEGMENT_1, upload)
        protected = {"s01-right": sha(cohort.submitted("s01-right", SEGMENT_1) / "01-batch-size.ipynb")}
        grade_run = run_cli("grade", cohort.root, SEGMENT_1, *GRADE_OPTIONS)
    finally:
        del os.environ[ENV_CANARY]
    export_run = run_cli("export", cohort.root, base / "grades.csv")
    with open(base / "grades.csv", newline="", encoding="utf-8") as stream:
        rows = {row["student_id"]: row for row in csv.DictReader(stream) if row["assignment"] == SEGMENT_1}
    return {"cohort": cohort, "cases": {c.student: c for c in cases}, "rows": rows, "upload": upload, "base": base,
            "roster": roster_run, "collect": collect_run, "salt": salt_run, "grade": grade_run, "export": export_run,
            "protected": protected, "segment": segment1}


def autograded(world, student: str) -> dict:
    path = world["cohort"].autograded(student, SEGMENT_1) / "01-batch-size.ipynb"
    return json.loads(path.read_text(encoding="utf-8"))


def all_output_text(notebook: dict) -> str:
    parts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") if isinstance(output.get("text"), str) else "")
            parts.append(output.get("evalue", ""))
            parts.extend(output.get("traceback", []))
    return "\n".join(parts)


def test_commands_succeed(world):
    """grade and export exit 0; roster and collect exit 1 because they report problems."""
    assert world["grade"][0] == 0, world["grade"][1]
    assert world["export"][0] == 0
    assert world["roster"][0] == 1 and world["collect"][0] == 1
    assert world["salt"][0] == 0, world["salt"][1]


CASE_IDS = [f"s{n:02d}" for n in range(1, 31)]


@pytest.mark.parametrize("prefix", CASE_IDS)
def test_each_learner_gets_the_status_and_score_it_must(world, prefix):
    """Every honest, broken and hostile fixture learner is exported with its specific status and score."""
    case = next(c for s, c in world["cases"].items() if s.startswith(prefix))
    row = world["rows"][case.student]
    assert row["status"] == case.status, row
    assert float(row["score"]) == pytest.approx(case.score), row
    assert float(row["max_score"]) == world["segment"].max_score
    if case.status != statuses.GRADED:
        assert row["message"], "a non-graded status always says what happened"


def test_roster_reports_bad_rows_by_line(world):
    """Bad roster rows are reported by line number and the rest is imported."""
    output = world["roster"][1]
    assert "imported 31 students" in output
    for line, problem in ((33, "no student id"), (34, "not usable as a folder name"), (35, "already on line 2")):
        assert f":{line}: not imported: " in output and problem in output


def test_unmatched_and_absent_students_are_reported(world):
    """A file naming no student is reported as unmatched_file; a student with nothing gets not_submitted."""
    assert "unmatched_file: stranger/01-batch-size.ipynb" in world["collect"][1]
    assert world["rows"]["s99-absent"]["status"] == statuses.NOT_SUBMITTED
    assert float(world["rows"]["s99-absent"]["score"]) == 0


def test_every_original_byte_is_kept(world):
    """The upload is archived untouched, and each stored file is byte-identical to what the student uploaded."""
    cohort = world["cohort"]
    archived = list(cohort.originals(SEGMENT_1).glob("*/input/lms-download.zip"))
    assert len(archived) == 1 and sha(archived[0]) == sha(world["upload"])
    for case in world["cases"].values():
        for name, data in case.files.items():
            stored = cohort.submitted(case.student, SEGMENT_1) / name
            assert stored.read_bytes() == data


def test_sandbox_hid_the_course_the_gradebook_the_network_and_the_environment(world):
    """The hostile learners' own printouts show they saw nothing they could use."""
    cohort = world["cohort"]
    snoop = all_output_text(autograded(world, "s06-read-source"))
    assert "read: []" in snoop
    assert "source" not in snoop.split("read:")[0].split("/work/main ")[-1].split("\n")[0]
    network = all_output_text(autograded(world, "s08-network"))
    assert "no network" in network and "no http" in network
    environment = all_output_text(autograded(world, "s09-env-detect"))
    assert "grading markers seen: []" in environment
    scribble = all_output_text(autograded(world, "s07-write-gradebook"))
    assert "written: []" in scribble
    assert sha(cohort.submitted("s01-right", SEGMENT_1) / "01-batch-size.ipynb") == world["protected"]["s01-right"]
    with cohort.gradebook() as gradebook:
        assert len(stored_results(gradebook, SEGMENT_1)) == len(world["cases"])


def test_the_attacks_would_have_found_their_targets_without_a_sandbox(world):
    """The paths the snooping learners tried are real: only the sandbox stopped them."""
    cohort = world["cohort"]
    assert (cohort.root / "gradebook.db").is_file() == cohort.db_url.startswith("sqlite:")
    assert (cohort.source / SEGMENT_1 / "01-batch-size.ipynb").is_file()
    assert (cohort.submitted("s01-right", SEGMENT_1) / "01-batch-size.ipynb").is_file()


def test_wrong_answers_get_hints_but_never_the_expected_values(world):
    """Failed exercises carry the check's hint; no test cell's output shows the reference value (the course's
    own cells may print any figure: they are in the released notebook too)."""
    notebook = autograded(world, "s02-wrong")
    text = all_output_text({"cells": [c for c in notebook["cells"] if "autograder" in c.get("metadata", {})]})
    assert "not yet right" in text or "not this one" in text
    for test in world["segment"].notebooks[0].tests:
        from autograder.tests.builders import exercise_of

        exercise, _ = exercise_of(test.source)
        if hasattr(exercise, "expected"):
            expected = float(exercise.expected())
            for form in {f"{expected:g}", f"{expected:.3g}", repr(expected)}:
                assert form not in text


def test_no_hidden_test_source_reaches_autograded_notebooks(world):
    """Autograded notebooks hold only the visible part of every test cell."""
    fragments = hidden_fragments(world["segment"])
    assert any("check_value" in f for f in fragments)
    for student in world["cases"]:
        path = world["cohort"].autograded(student, SEGMENT_1) / "01-batch-size.ipynb"
        if path.exists():
            text = path.read_text(encoding="utf-8")
            assert not [f for f in fragments if f in text], student


def test_tampering_and_limits_are_explained(world):
    """The message names what was repaired or which cell hit which limit."""
    rows = world["rows"]
    assert "deleted" in rows["s16-deleted-test"]["message"]
    assert "duplicated" in rows["s17-duplicated-test"]["message"]
    assert "edited" in rows["s18-edited-test"]["message"]
    assert "re-typed" in rows["s19-retyped-test"]["message"]
    assert "points" in rows["s20-points-edited"]["message"]
    assert "os._exit" in rows["s21-kernel-dies"]["message"]
    assert "while True" in rows["s22-endless-loop"]["message"]
    assert "02-moe-racks" in rows["s13-wrong-assignment"]["message"]
    assert "Untitled (1).ipynb" in rows["s14-wrong-filename"]["message"]
    assert "answers.py" in rows["s15-missing-notebook"]["message"]
    assert "line" in rows["s10-not-json"]["message"]


def test_nbgrader_sees_the_grades(world):
    """nbgrader's own Gradebook holds the scores and flags the problem submissions."""
    cohort = world["cohort"]
    with Gradebook(cohort.db_url, cohort.course_id) as gradebook:
        right = gradebook.find_submission(SEGMENT_1, "s01-right")
        assert right.score == world["segment"].max_score and not right.needs_manual_grade
        assert right.timestamp is not None, "collect's timestamp.txt reaches nbgrader"
        tampered = gradebook.find_submission_notebook("01-batch-size", SEGMENT_1, "s16-deleted-test")
        assert tampered.flagged
        assert not gradebook.find_submission_notebook("01-batch-size", SEGMENT_1, "s01-right").flagged


def test_nbgrader_export_still_works(world):
    """Stock ``nbgrader export`` reads the cohort's gradebook."""
    cohort = world["cohort"]
    target = world["base"] / "nbgrader-grades.csv"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--to={target}"], cwd=cohort.root,
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    with open(target, newline="") as stream:
        rows = {r["student_id"]: r for r in csv.DictReader(stream) if r["assignment"] == SEGMENT_1}
    assert float(rows["s01-right"]["raw_score"]) == world["segment"].max_score


def test_feedback_shows_hints_but_no_hidden_tests(world):
    """``feedback`` writes a page per student; none shows hidden test text; each starts with the status."""
    cohort = world["cohort"]
    code, output = run_cli("feedback", cohort.root, SEGMENT_1)
    assert code == 0, output
    pages = {p.parent.parent.name: p.read_text(encoding="utf-8")
             for p in (cohort.root / "feedback").glob(f"*/{SEGMENT_1}/*.html")}
    assert set(pages) == set(world["cases"])
    fragments = hidden_fragments(world["segment"])
    for student, page in pages.items():
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        assert not [f for f in fragments if f in text], student
        assert f"Status: {world['cases'][student].status}" in page
    assert "not yet right" in pages["s02-wrong"]
    assert "not valid JSON" in pages["s10-not-json"]
    assert "another student's numbers" in pages[COPIED_VARIANT] and OWN_VARIANT not in pages[COPIED_VARIANT]


def test_regrading_is_idempotent(world):
    """A second ``grade`` run regrades nothing and leaves every stored result as it was."""
    cohort = world["cohort"]

    def snapshot():
        with cohort.gradebook() as gradebook:
            rows = stored_results(gradebook, SEGMENT_1)
            return {key: {k: v for k, v in row.items() if k != "graded_at"} for key, row in rows.items()}

    before = snapshot()
    code, output = run_cli("grade", cohort.root, SEGMENT_1, *GRADE_OPTIONS)
    assert code == 0 and "graded 0" in output and f"unchanged {len(world['cases'])}" in output
    assert snapshot() == before


def test_a_resubmission_replaces_the_old_one_only_after_it_is_stored(world):
    """Collecting a new version swaps it in, keeps the old bytes, and regrades only that student."""
    cohort = world["cohort"]
    spec = world["segment"].notebooks[0]
    old = cohort.submitted("s02-wrong", SEGMENT_1) / "01-batch-size.ipynb"
    old_bytes = old.read_bytes()
    resubmission = world["base"] / "resubmission"
    (resubmission / "s02-wrong").mkdir(parents=True)
    (resubmission / "s02-wrong" / "01-batch-size.ipynb").write_text(json.dumps(learner_notebook(spec)))
    code, output = run_cli("collect", cohort.root, SEGMENT_1, resubmission)
    assert code == 0 and "1 replaced" in output, output
    kept = list(cohort.originals(SEGMENT_1).glob("*/replaced/s02-wrong/01-batch-size.ipynb"))
    assert len(kept) == 1 and kept[0].read_bytes() == old_bytes
    code, output = run_cli("grade", cohort.root, SEGMENT_1, *GRADE_OPTIONS)
    assert code == 0 and "graded 1" in output, output
    with cohort.gradebook() as gradebook:
        row = stored_results(gradebook, SEGMENT_1)[(SEGMENT_1, "s02-wrong")]
    assert row["status"] == statuses.GRADED and row["score"] == world["segment"].max_score


def test_export_has_one_row_per_student_and_assignment(world):
    """Every roster student appears once per assignment in the gradebook, with a status."""
    cohort = world["cohort"]
    target = world["base"] / "all.csv"
    code, _ = run_cli("export", cohort.root, target)
    assert code == 0
    with open(target, newline="") as stream:
        rows = list(csv.DictReader(stream))
    keys = [(r["student_id"], r["assignment"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert {r["student_id"] for r in rows} == set(world["cases"]) | {"s99-absent"}
    assert all(r["status"] for r in rows)


def family_tests(world) -> list:
    """(test cell, family) of every exercise-family test of segment 1."""
    found = [(t, exercise_of(t.source)[0]) for t in world["segment"].notebooks[0].tests]
    return [(t, e) for t, e in found if is_family(e)]


def test_two_roster_students_get_different_numbers_and_each_always_the_same(world):
    """Every family gives s29 and s30 different parameters and answers; drawing again gives the same ones."""
    families = family_tests(world)
    assert len(families) >= 2
    for _, family in families:
        own, other = (family.params(s, salt=VARIANT_SALT) for s in (OWN_VARIANT, COPIED_VARIANT))
        assert own != other
        assert right_value(family, OWN_VARIANT, VARIANT_SALT) != right_value(family, COPIED_VARIANT, VARIANT_SALT)
        assert family.params(OWN_VARIANT, salt=VARIANT_SALT) == own
        assert family.params(OWN_VARIANT, salt="") != own or family.params(COPIED_VARIANT, salt="") != other


def test_copied_family_answers_score_zero_with_wrong_variant_naming_the_cells(world):
    """s30 handed in s29's notebook: s29 gets full marks; s30 gets 0 on each family cell, outcome wrong_variant,
    the message naming the cells; only the export (the instructor's) says whose variant they answer."""
    cohort = world["cohort"]
    with cohort.gradebook() as gradebook:
        rows = stored_results(gradebook, SEGMENT_1)
    own = json.loads(rows[(SEGMENT_1, OWN_VARIANT)]["details"])["notebooks"][0]["exercises"]
    copied = json.loads(rows[(SEGMENT_1, COPIED_VARIANT)]["details"])["notebooks"][0]["exercises"]
    assert all(e["outcome"] == "passed" for e in own)
    family_ids = {t.grade_id for t, _ in family_tests(world)}
    for exercise in copied:
        if exercise["grade_id"] in family_ids:
            assert exercise["outcome"] == statuses.WRONG_VARIANT and exercise["score"] == 0, exercise
            assert OWN_VARIANT in exercise["matched"]  # and anyone whose variant has the same answer
            assert OWN_VARIANT not in exercise["message"] and "another student's numbers" in exercise["message"]
        else:
            assert exercise["outcome"] == "passed", exercise
    message = world["rows"][COPIED_VARIANT]["message"]
    assert all(grade_id in message for grade_id in family_ids)
    assert f"answers the variant of {OWN_VARIANT}" in message
    assert OWN_VARIANT not in rows[(SEGMENT_1, COPIED_VARIANT)]["message"], "the stored message reaches feedback"
    assert OWN_VARIANT not in json.dumps(autograded(world, COPIED_VARIANT))


def test_variant_prints_a_students_numbers_for_the_instructor(world):
    """``variant`` prints each family's expected answer for the student (with the cohort's salt); an unknown
    student or assignment is refused with exit status 2."""
    cohort = world["cohort"]
    code, output = run_cli("variant", cohort.root, OWN_VARIANT, SEGMENT_1)
    assert code == 0, output
    for test, family in family_tests(world):
        assert f"{test.grade_id} (family {family.key}): {family.variable} = " \
               f"{right_value(family, OWN_VARIANT, VARIANT_SALT):.6g}" in output
    code, output = run_cli("variant", cohort.root, "nobody-here", SEGMENT_1)
    assert code == 2 and "not on the roster" in output
    code, output = run_cli("variant", cohort.root, OWN_VARIANT, "99-no-such-assignment")
    assert code == 2 and "no assignment '99-no-such-assignment'" in output


def test_the_salt_is_kept_for_the_instructor_only_and_not_replaced_by_accident(world):
    """The salt file is mode 0600; setting another salt without --replace is refused."""
    cohort = world["cohort"]
    assert (cohort.root / "variant-salt").stat().st_mode & 0o777 == 0o600
    code, output = run_cli("salt", cohort.root, "another-salt")
    assert code == 2 and "--replace" in output
    code, output = run_cli("salt", cohort.root)
    assert code == 0 and f"COURSE_VARIANT_SALT={VARIANT_SALT}" in output
