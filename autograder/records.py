"""Writing results where nbgrader and the instructor find them: the gradebook and ``autograded/``.

Scores go into nbgrader's own tables (``Grade.auto_score``, ``needs_manual_grade``,
``SubmittedNotebook.flagged``) through ``nbgrader.api.Gradebook``, so formgrader,
``nbgrader generate_feedback`` and ``nbgrader export`` keep working. The status,
message and fingerprint of each (student, assignment) go into one extra table,
``autograder_results``, created with SQLAlchemy in the same database: it works the
same on SQLite and on PostgreSQL. Each submission is committed on its own, so a
batch that stops half-way loses nothing already graded.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import Column, DateTime, Float, MetaData, String, Table, Text, delete, insert, select
from sqlalchemy.exc import SAWarning

from autograder import statuses
from autograder.cohort import Cohort
from autograder.grader import SubmissionResult

TABLE = Table(
    "autograder_results", MetaData(),
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


def ensure_alembic_on_path() -> None:
    """nbgrader runs its ``alembic`` command by name when it creates a gradebook: put our interpreter's bin first."""
    import shutil
    import sys

    if shutil.which("alembic") is None:
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@contextlib.contextmanager
def open_gradebook(cohort: Cohort) -> Iterator:
    """nbgrader's Gradebook for the cohort, with the autograder's table created if missing."""
    from nbgrader.api import Gradebook

    ensure_alembic_on_path()
    with warnings.catch_warnings():
        # nbgrader 0.9's add_submission trips SQLAlchemy 2's autoflush warnings; they are harmless.
        warnings.filterwarnings("ignore", message=r"Object of type <Submitted", category=SAWarning)
        gradebook = Gradebook(cohort.db_url, cohort.course_id)
        try:
            TABLE.metadata.create_all(bind=gradebook.engine)
            yield gradebook
        finally:
            gradebook.close()


def stored_results(gradebook, assignment: str | None = None) -> dict[tuple[str, str], dict]:
    """(assignment, student) -> the autograder's row."""
    query = select(TABLE)
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
    """Store ``result``: nbgrader grades and flags, and the autograder's status row, in one commit."""
    if not _has_student(gradebook, result.student):
        gradebook.add_student(result.student)
    kwargs = {"timestamp": timestamp} if timestamp else {}
    submission = gradebook.update_or_create_submission(result.assignment, result.student, **kwargs)
    by_notebook = {n.notebook: n for n in result.notebooks}
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
    details = {"notebooks": [{"notebook": n.notebook, "status": n.status, "file": n.file, "notes": n.notes,
                              "exercises": [e.as_dict() for e in n.exercises], "manual": n.manual,
                              "seconds": n.seconds} for n in result.notebooks]}
    key = (TABLE.c.assignment == result.assignment) & (TABLE.c.student == result.student)
    gradebook.db.execute(delete(TABLE).where(key))
    gradebook.db.execute(insert(TABLE).values(
        assignment=result.assignment, student=result.student, status=result.status, message=result.message,
        score=result.score, max_score=result.max_score, fingerprint=result.fingerprint,
        details=json.dumps(details), graded_at=datetime.now(timezone.utc).replace(tzinfo=None)))
    gradebook.db.commit()


def _has_student(gradebook, student: str) -> bool:
    from nbgrader.api import MissingEntry

    try:
        gradebook.find_student(student)
    except MissingEntry:
        return False
    return True


def write_autograded(cohort: Cohort, result: SubmissionResult) -> None:
    """Write each graded notebook to ``autograded/``; remove stale ones of notebooks that could not run."""
    folder = cohort.autograded(result.student, result.assignment)
    for notebook in result.notebooks:
        target = folder / f"{notebook.notebook}.ipynb"
        if notebook.autograded is None:
            if target.exists():
                target.unlink()
            continue
        atomic_write(target, json.dumps(notebook.autograded, indent=1, ensure_ascii=False).encode("utf-8"))


def atomic_write(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a synced temporary file and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
