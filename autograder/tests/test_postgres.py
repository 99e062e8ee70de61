"""A live PostgreSQL gradebook: init checks before writing, secrets stay secret, concurrent writers are safe.

Everything runs against a real server (``postgres`` fixture: a throwaway PostgreSQL on 127.0.0.1),
and the concurrency checks against SQLite too.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.cohort import init_cohort, open_cohort, register_assignment
from autograder.records import record_submission, stored_results
from autograder.results import ExerciseResult, NotebookResult, SubmissionResult
from autograder.tests.builders import learner_notebook, write
from autograder.tests.conftest import SEGMENT_1, clone_cohort, needs_bwrap
from autograder.tests.services import POSTGRES_PASSWORD
from autograder.tests.test_workflow import run_cli


def test_init_tests_the_connection_before_writing_anything(postgres, tmp_path):
    """A wrong password or a missing driver: a clear error, no password in it, and no half-made cohort."""
    wrong = postgres.url("postgres").replace(POSTGRES_PASSWORD, "not-the-password")
    code, output = run_cli("init", tmp_path / "a", "--db-url", wrong)
    assert code == 2 and "password authentication failed" in output and "nothing was written" in output
    assert "not-the-password" not in output and not (tmp_path / "a").exists()
    code, output = run_cli("init", tmp_path / "b", "--db-url", postgres.url(driver="postgresql+psycopg2"))
    assert code == 2 and "psycopg2" in output and POSTGRES_PASSWORD not in output
    assert not (tmp_path / "b").exists()
    code, output = run_cli("init", tmp_path / "c", "--db-url", postgres.url("no_such_database"))
    assert code == 2 and "no_such_database" in output and not (tmp_path / "c").exists()


def test_a_password_in_the_url_is_never_shown_and_stored_for_the_owner_only(postgres, tmp_path):
    url = postgres.new_database("secret_kept")
    code, output = run_cli("init", tmp_path / "cohort", "--db-url", url)
    assert code == 0, output
    assert POSTGRES_PASSWORD not in output and "postgres:***@" in output
    config = tmp_path / "cohort" / "nbgrader_config.py"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    code, output = run_cli("grade", tmp_path / "cohort", "no-such-assignment")
    assert code == 2 and POSTGRES_PASSWORD not in output
    code, output = run_cli("export", tmp_path / "cohort", tmp_path / "grades.csv")
    assert code == 0 and POSTGRES_PASSWORD not in output + (tmp_path / "grades.csv").read_text()


def test_a_url_without_password_uses_pgpassfile(postgres, tmp_path, monkeypatch):
    postgres.new_database("passfile")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{postgres.port}:passfile:postgres:{POSTGRES_PASSWORD}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    url = postgres.url("passfile", password=False)
    code, output = run_cli("init", tmp_path / "cohort", "--db-url", url)
    assert code == 0, output
    config = tmp_path / "cohort" / "nbgrader_config.py"
    assert POSTGRES_PASSWORD not in config.read_text() and stat.S_IMODE(config.stat().st_mode) == 0o644
    monkeypatch.delenv("PGPASSFILE")
    monkeypatch.setenv("PGPASSWORD", POSTGRES_PASSWORD)
    assert open_cohort(tmp_path / "cohort").db_url == url
    code, output = run_cli("roster", tmp_path / "cohort", _roster(tmp_path, ["pw1"]))
    assert code == 0, output


def _roster(folder: Path, students: list[str]) -> Path:
    path = folder / f"roster-{'-'.join(students)}.csv"
    path.write_text("id\n" + "".join(f"{s}\n" for s in students))
    return path


def test_cohorts_sharing_a_database_stay_apart(postgres, tmp_path):
    """nbgrader keeps one course per database: a second cohort is refused there, and lives in a schema of its own."""
    url = postgres.new_database("shared")
    assert run_cli("init", tmp_path / "spring", "--db-url", url)[0] == 0
    code, output = run_cli("init", tmp_path / "fall", "--db-url", url)
    assert code == 2 and "already holds the nbgrader gradebook" in output and "search_path" in output
    assert not (tmp_path / "fall").exists()
    postgres.execute("CREATE SCHEMA fall", database="shared")
    code, output = run_cli("init", tmp_path / "fall", "--db-url", url + "?options=-csearch_path%3Dfall")
    assert code == 0, output
    assert run_cli("roster", tmp_path / "spring", _roster(tmp_path, ["alice"]))[0] == 0
    assert run_cli("roster", tmp_path / "fall", _roster(tmp_path, ["bob"]))[0] == 0
    for name, expected in (("spring", ["alice"]), ("fall", ["bob"])):
        with open_cohort(tmp_path / name).gradebook() as gradebook:
            assert [s.id for s in gradebook.students] == expected


# --------------------------------------------------------------------------- concurrent writers

def _result(segment1, student: str, score: float) -> SubmissionResult:
    spec = segment1.notebooks[0]
    exercises = [ExerciseResult(t.grade_id, score * t.points, t.points, "passed") for t in spec.tests]
    return SubmissionResult(student, SEGMENT_1, [NotebookResult(spec.name, "graded", exercises=exercises,
                                                                max_score=spec.max_score)], f"fp-{score}")


def _record_many(root: str, result: SubmissionResult, times: int, queue) -> None:
    try:
        with open_cohort(Path(root)).gradebook() as gradebook:
            for _ in range(times):
                record_submission(gradebook, result, None)
        queue.put("ok")
    except BaseException as error:  # reported to the test
        queue.put(f"{type(error).__name__}: {error}")


@pytest.fixture(scope="module")
def registered_pg_cohort(postgres, tmp_path_factory):
    root = tmp_path_factory.mktemp("pg-registered") / "cohort"
    cohort = init_cohort(root, db_url=postgres.new_database("concurrent"))
    register_assignment(cohort, SEGMENT_1)
    return cohort


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_four_processes_recording_one_student_at_once_never_fail(database, request, template_cohort, tmp_path,
                                                                 segment1):
    """nbgrader's check-then-insert races (UniqueViolation) are retried; every call succeeds, one row results."""
    cohort = (request.getfixturevalue("registered_pg_cohort") if database == "postgresql"
              else clone_cohort(template_cohort, tmp_path / "cohort"))
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    student = f"racer-{database}"
    workers = [context.Process(target=_record_many, args=(str(cohort.root), _result(segment1, student, n / 4), 6,
                                                          queue)) for n in range(4)]
    for worker in workers:
        worker.start()
    outcomes = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert outcomes == ["ok"] * 4
    with cohort.gradebook() as gradebook:
        rows = stored_results(gradebook, SEGMENT_1)
        assert list(rows) == [(SEGMENT_1, student)]
        assert gradebook.find_submission(SEGMENT_1, student).score == rows[(SEGMENT_1, student)]["score"]


@needs_bwrap
def test_simultaneous_first_grade_runs_take_turns(postgres, tmp_path, segment1):
    """Three `grade` commands at once on a new cohort: none crashes, the work is done once, no row is doubled."""
    cohort = init_cohort(tmp_path / "cohort", db_url=postgres.new_database("simultaneous"))
    spec = segment1.notebooks[0]
    for student in ("s1", "s2"):
        write(cohort.submitted(student, SEGMENT_1) / spec.filename, learner_notebook(spec))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    command = [sys.executable, "-m", "autograder", "grade", str(cohort.root), SEGMENT_1, "--jobs", "1"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(3)]
    outputs = [run.communicate(timeout=400) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], [o[1][-2000:] for o in outputs]
    graded = sorted(int(o[0].split("graded ")[1].split(",")[0]) for o in outputs)
    assert graded == [0, 0, 2], outputs
    assert sum("waiting for" in o[1] for o in outputs) >= 1
    assert (cohort.root / "release" / SEGMENT_1 / spec.filename).is_file()
    with cohort.gradebook() as gradebook:
        rows = stored_results(gradebook, SEGMENT_1)
        assert sorted(rows) == [(SEGMENT_1, "s1"), (SEGMENT_1, "s2")]
        assert all(row["score"] == segment1.max_score for row in rows.values())
        assert len(gradebook.find_assignment(SEGMENT_1).submissions) == 2
