"""Writing results where nbgrader and the instructor find them: the gradebook and ``autograded/``.

Scores go into nbgrader's own tables (``Grade.auto_score``, ``needs_manual_grade``,
``SubmittedNotebook.flagged``) through ``nbgrader.api.Gradebook``, so formgrader,
``nbgrader generate_feedback`` and ``nbgrader export`` keep working. The status,
message and fingerprint of each (course, assignment, student) go into one extra table,
``autograder_results``, created with SQLAlchemy in the same database: it works the
same on SQLite and on PostgreSQL. Each submission is committed on its own, so a
batch that stops half-way loses nothing already graded.

Several processes may record at once (two ``grade`` runs, a TA beside the batch):
nbgrader's check-then-insert of students and submissions can then hit a unique
constraint, and SQLite can be locked for a moment. ``record_submission`` rolls back
and retries such a conflict (the second try finds the row the other process made);
the autograder's own row is an upsert.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import Column, DateTime, Float, MetaData, String, Table, Text, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SAWarning

from autograder import statuses
from autograder.durable import atomic_write
from autograder.results import SubmissionResult

TABLE_NAME = "autograder_results"
TABLE = Table(
    TABLE_NAME, MetaData(),
    Column("course", String(128), primary_key=True),
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("message", Text),
    Column("score", Float),
    Column("max_score", Float),
    Column("fingerprint", String(64)),
    Column("details", Text),
    Column("graded_at", DateTime),
)
COLUMNS = [c.name for c in TABLE.columns]
RECORD_TRIES = 8


def ensure_alembic_on_path() -> None:
    """nbgrader runs its ``alembic`` command by name when it creates a gradebook: put our interpreter's bin first."""
    import shutil
    import sys

    if shutil.which("alembic") is None:
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@contextlib.contextmanager
def open_gradebook(db_url: str, course_id: str) -> Iterator:
    """nbgrader's Gradebook of ``course_id`` at ``db_url``, with the autograder's table created (or updated) if needed."""
    from nbgrader.api import Gradebook

    ensure_alembic_on_path()
    with warnings.catch_warnings():
        # nbgrader 0.9's add_submission trips SQLAlchemy 2's autoflush warnings; they are harmless.
        warnings.filterwarnings("ignore", message=r"Object of type <Submitted", category=SAWarning)
        gradebook = Gradebook(db_url, course_id)
        try:
            if gradebook.engine.dialect.name == "sqlite":
                _fast_sqlite(gradebook)
            _ensure_table(gradebook.engine, course_id)
            yield gradebook
        finally:
            gradebook.close()


def _fast_sqlite(gradebook) -> None:
    """Write-ahead log, synced at checkpoints: a commit costs no fsync, and a crash of the machine can lose
    only the last commits, never corrupt the file. A lost row is harmless here: its submission has no
    fingerprint any more, so the next ``grade`` grades it again."""
    from sqlalchemy import event, text

    def configure(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")  # first: another process may hold the file for a moment
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(gradebook.engine, "connect", configure)
    gradebook.db.close()
    gradebook.engine.dispose()  # connections made from now on are configured
    gradebook.db.execute(text("SELECT 1"))


def _ensure_table(engine, course_id: str) -> None:
    """Create ``autograder_results``; a table of the first version (no course column) is converted in place."""
    columns = {c["name"] for c in inspect(engine).get_columns(TABLE_NAME)} if inspect(engine).has_table(
        TABLE_NAME) else None
    if columns is not None and "course" not in columns:
        with engine.begin() as connection:
            rows = [dict(r) for r in connection.execute(select(*[TABLE.c[n] for n in COLUMNS if n in columns]
                                                               ).select_from(TABLE)).mappings()]
            TABLE.drop(connection)
            TABLE.create(connection)
            if rows:
                connection.execute(TABLE.insert(), [dict(r, course=course_id) for r in rows])
    try:
        TABLE.metadata.create_all(bind=engine)
    except (IntegrityError, OperationalError, DBAPIError):  # created by a process beside us just now
        if not inspect(engine).has_table(TABLE_NAME):
            raise


def stored_results(gradebook, assignment: str | None = None) -> dict[tuple[str, str], dict]:
    """(assignment, student) -> the autograder's row, for this gradebook's course only."""
    query = select(TABLE).where(TABLE.c.course == gradebook.course_id)
    if assignment is not None:
        query = query.where(TABLE.c.assignment == assignment)
    rows = gradebook.db.execute(query).mappings().all()
    return {(row["assignment"], row["student"]): dict(row) for row in rows}


def read_timestamp(folder: Path) -> datetime | None:
    """nbgrader's ``timestamp.txt`` of a submitted folder, if readable."""
    from nbgrader.utils import parse_utc

    path = folder / "timestamp.txt"
    try:
        return parse_utc(path.read_text().strip())
    except (OSError, ValueError, TypeError):
        return None


def record_submission(gradebook, result: SubmissionResult, timestamp: datetime | None) -> None:
    """Store ``result`` (nbgrader grades and flags, the autograder's row) in one commit; retry on a conflict."""
    from nbgrader.api import InvalidEntry

    for attempt in range(RECORD_TRIES):
        try:
            _record(gradebook, result, timestamp)
            return
        except (IntegrityError, OperationalError, InvalidEntry) as error:
            gradebook.db.rollback()
            if attempt == RECORD_TRIES - 1:
                raise RuntimeError(f"could not record {result.student}'s {result.assignment} after "
                                   f"{RECORD_TRIES} tries: {type(error).__name__}") from error
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))


def _lock_submission(gradebook, result: SubmissionResult) -> None:
    """On PostgreSQL, hold a transaction lock on this student's submission (released at the commit)."""
    if gradebook.db.get_bind().dialect.name == "postgresql":
        key = "\x1f".join((gradebook.course_id, result.assignment, result.student))
        gradebook.db.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def _record(gradebook, result: SubmissionResult, timestamp: datetime | None) -> None:
    """nbgrader's rows first (its calls commit), then, in one locked transaction, our row and the grades.

    Two writers of one student must not both read the grades before either commits: the ORM then skips
    an UPDATE whose new value equals the stale one, and the grades and the results row disagree. So the
    transaction starts with a lock (PostgreSQL: an advisory lock; SQLite: the results row's write takes
    the database's write lock), and only then reads the grades afresh.
    """
    if not _has_student(gradebook, result.student):
        gradebook.add_student(result.student)
    kwargs = {"timestamp": timestamp} if timestamp else {}
    submission = gradebook.update_or_create_submission(result.assignment, result.student, **kwargs)  # commits
    details = {"notebooks": [{"notebook": n.notebook, "status": n.status, "file": n.file, "notes": n.notes,
                              "exercises": [_exercise_details(e) for e in n.exercises], "manual": n.manual,
                              "seconds": n.seconds} for n in result.notebooks]}
    row = {"course": gradebook.course_id, "assignment": result.assignment, "student": result.student,
           "status": result.status, "message": result.message, "score": result.score,
           "max_score": result.max_score, "fingerprint": result.fingerprint, "details": json.dumps(details),
           "graded_at": datetime.now(timezone.utc).replace(tzinfo=None)}
    _lock_submission(gradebook, result)
    gradebook.db.execute(_upsert(gradebook.db.get_bind().dialect.name, row))
    gradebook.db.expire_all()  # the grades as committed by whoever wrote last, read under the lock
    by_notebook = {n.notebook: n for n in result.notebooks}
    with gradebook.db.no_autoflush:  # one flush at the commit, not one per lazily loaded grade
        _set_grades(submission, by_notebook)
    gradebook.db.commit()


def _exercise_details(exercise) -> dict:
    """An exercise's stored details: what the learner may see, plus (instructor only) whose variant it matched."""
    details = exercise.as_dict()
    if exercise.matched:
        details["matched"] = list(exercise.matched)
    return details


def wrong_variant_matches(row: dict) -> list[tuple[str, list[str]]]:
    """(grade_id, students whose variant it answers) of each ``wrong_variant`` cell in a stored row (instructor only)."""
    try:
        details = json.loads(row.get("details") or "{}")
    except ValueError:
        return []
    found = []
    for notebook in details.get("notebooks", []) if isinstance(details, dict) else []:
        for exercise in notebook.get("exercises", []):
            if exercise.get("matched"):
                found.append((str(exercise.get("grade_id")), [str(s) for s in exercise["matched"]]))
    return found


def _set_grades(submission, by_notebook: dict) -> None:
    """nbgrader's auto scores, manual-grade flags and notebook flags from the autograder's results."""
    for notebook in submission.notebooks:
        graded = by_notebook.get(notebook.name)
        if graded is None:
            continue
        scores = {e.grade_id: e.score for e in graded.exercises}
        for grade in notebook.grades:
            if grade.name in scores:
                grade.auto_score = scores[grade.name]
                grade.needs_manual_grade = grade.manual_score is not None
            elif grade.name in graded.manual:
                grade.auto_score = None
                grade.needs_manual_grade = True
            else:
                grade.auto_score = 0.0
                grade.needs_manual_grade = False
        notebook.flagged = graded.status != statuses.GRADED


def _upsert(dialect: str, row: dict):
    """INSERT ... ON CONFLICT (course, assignment, student) DO UPDATE, in the database's own dialect."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise ValueError(f"the autograder's table supports SQLite and PostgreSQL, not {dialect}")
    statement = insert(TABLE).values(**row)
    keys = ("course", "assignment", "student")
    return statement.on_conflict_do_update(index_elements=list(keys),
                                           set_={k: statement.excluded[k] for k in row if k not in keys})


def _has_student(gradebook, student: str) -> bool:
    from nbgrader.api import MissingEntry

    try:
        gradebook.find_student(student)
    except MissingEntry:
        return False
    return True


def write_autograded(folder: Path, result: SubmissionResult) -> None:
    """Write each graded notebook to ``folder`` (``autograded/<student>/<a>/``); remove stale ones that could not run."""
    for notebook in result.notebooks:
        target = folder / f"{notebook.notebook}.ipynb"
        if notebook.autograded is None:
            if target.exists():
                target.unlink()
            continue
        atomic_write(target, json.dumps(notebook.autograded, indent=1, ensure_ascii=False).encode("utf-8"))
