"""A cohort folder: an nbgrader course directory of its own, outside the course repository.

Layout (nbgrader's, plus two folders of the autograder's own)::

    COHORT/nbgrader_config.py   minimal nbgrader config (root, course_id, optional db_url)
    COHORT/autograder.json      where the course's source/ came from
    COHORT/gradebook.db         nbgrader's SQLite gradebook (unless db_url points elsewhere)
    COHORT/source/<a>/          snapshot of the course's source/ (what grading trusts)
    COHORT/release/<a>/         written by `nbgrader generate_assignment` when an assignment is registered
    COHORT/submitted/<s>/<a>/   collected files, byte for byte, plus nbgrader's timestamp.txt
    COHORT/autograded/<s>/<a>/  graded notebooks (outputs, grade metadata, no hidden tests)
    COHORT/feedback/<s>/<a>/    per-student HTML feedback
    COHORT/originals/<a>/<ts>/  every collected input, untouched (zip or folder), and replaced submissions
    COHORT/reports/             collect reports (CSV)
    COHORT/.locks/              lock files: one ``grade`` run per assignment at a time, one registration at a time
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from autograder.course import REPO_ROOT, course_source_root, is_inside
from autograder.database import DatabaseError, check_database, redact, url_password
from autograder.durable import atomic_write
from autograder.records import open_gradebook
from autograder.spec import AssignmentSpec, list_assignments, load_assignment

COURSE_ID = "llm-inference-economics"
"""Prefix of every cohort's nbgrader course id (``<prefix>-<cohort folder name>``)."""
CONFIG_NAME = "nbgrader_config.py"
SETTINGS_NAME = "autograder.json"
CONFIG_TEMPLATE = '''\
# nbgrader configuration of this cohort, written by `python -m autograder init`.
# nbgrader's own commands (formgrader, generate_feedback, export) read it when run in this folder.
# The course directory is the folder this file is in (nbgrader's default root: run nbgrader here).
c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)
c.CourseDirectory.course_id = {course_id!r}
{db_line}
'''


class CohortError(RuntimeError):
    """The cohort folder is missing, malformed, or would land somewhere it must not."""


@dataclass(frozen=True)
class Cohort:
    """An initialised cohort folder."""

    root: Path
    db_url: str
    course_id: str
    course_source: Path

    @property
    def source(self) -> Path:
        return self.root / "source"

    def submitted(self, student: str, assignment: str) -> Path:
        return self.root / "submitted" / student / assignment

    def autograded(self, student: str, assignment: str) -> Path:
        return self.root / "autograded" / student / assignment

    def feedback(self, student: str, assignment: str) -> Path:
        return self.root / "feedback" / student / assignment

    def originals(self, assignment: str) -> Path:
        return self.root / "originals" / assignment

    def assignments(self) -> list[str]:
        return list_assignments(self.source)

    def assignment(self, name: str) -> AssignmentSpec:
        """The cohort's snapshot of ``name``, copied from the course's source/ the first time it is needed."""
        snapshot = self.source / name
        if not snapshot.is_dir():
            original = self.course_source / name
            if not original.is_dir():
                known = ", ".join(sorted(set(self.assignments()) | set(list_assignments(self.course_source))))
                raise CohortError(f"no assignment {name!r} in {self.source} or {self.course_source} "
                                  f"(known: {known or 'none'})")
            shutil.copytree(original, snapshot, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        return load_assignment(self.source, name)

    def all_assignments(self) -> list[AssignmentSpec]:
        """Every assignment of the snapshot and of the course (for recognising wrong-assignment notebooks)."""
        names = sorted(set(self.assignments()) | set(list_assignments(self.course_source)))
        loaded = []
        for name in names:
            folder = self.source if (self.source / name).is_dir() else self.course_source
            loaded.append(load_assignment(folder, name))
        return loaded

    def gradebook(self):
        """nbgrader's Gradebook of this cohort (a context manager; see ``records.open_gradebook``)."""
        return open_gradebook(self.db_url, self.course_id)

    def students_with_submissions(self, assignment: str) -> list[str]:
        base = self.root / "submitted"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir()
                      if not p.name.startswith(".") and (p / assignment).is_dir())


def default_course_id(root: Path) -> str:
    """``llm-inference-economics-<folder>``: unique per cohort, so cohorts never share rows by accident."""
    return f"{COURSE_ID}-{re.sub(r'[^A-Za-z0-9._-]', '-', Path(root).name)}"[:128]


def init_cohort(root: Path, course_source: Path | None = None, db_url: str | None = None,
                course_id: str | None = None) -> Cohort:
    """Create (or re-open) a cohort folder; refuse any place inside the course repository.

    The database is checked (driver, connection, no other course in it) before anything is
    written; if creating the cohort fails after that, a folder this call created is removed again.
    """
    root = Path(root).absolute()
    course_source = Path(course_source or course_source_root()).absolute()
    for forbidden in {REPO_ROOT, course_source.parent}:
        if is_inside(root, forbidden):
            raise CohortError(f"{root} is inside the course repository {forbidden}: a cohort holds student "
                              "data and must live elsewhere (e.g. ~/cohorts/2025-spring)")
    existing = (root / SETTINGS_NAME).exists()
    if root.exists() and any(root.iterdir()) and not existing:
        raise CohortError(f"{root} exists and is not an empty folder or a cohort: choose a new folder")
    if existing:
        cohort = open_cohort(root)
        if db_url and db_url != cohort.db_url:
            raise CohortError(f"{root} is already a cohort with gradebook {redact(cohort.db_url)}, not "
                              f"{redact(db_url)}: edit c.CourseDirectory.db_url in {root / CONFIG_NAME} to move it")
        if course_id and course_id != cohort.course_id:
            raise CohortError(f"{root} is already the cohort of course {cohort.course_id!r}, not {course_id!r}")
        db_url, course_id = cohort.db_url, cohort.course_id
    course_id = course_id or default_course_id(root)
    try:
        check_database(db_url or "sqlite://", course_id)
    except DatabaseError as error:
        raise CohortError(f"{error}; nothing was written") from None
    created = not root.exists()
    try:
        return _create(root, course_source, db_url, course_id)
    except BaseException:
        if created:
            shutil.rmtree(root, ignore_errors=True)
        elif not existing:  # it was an empty folder: empty it again
            for child in root.iterdir():
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink()
        raise


def _create(root: Path, course_source: Path, db_url: str | None, course_id: str) -> Cohort:
    root.mkdir(parents=True, exist_ok=True)
    db_line = (f"c.CourseDirectory.db_url = {db_url!r}" if db_url else
               "# c.CourseDirectory.db_url = 'postgresql://user@host/dbname'  # default: ./gradebook.db")
    config = root / CONFIG_NAME
    if not config.exists():
        secret = bool(db_url and url_password(db_url))  # the password stays readable by the instructor only
        atomic_write(config, CONFIG_TEMPLATE.format(course_id=course_id, db_line=db_line).encode(),
                     0o600 if secret else 0o644)
    for folder in ("source", "submitted", "autograded", "feedback", "originals", "reports", ".locks"):
        (root / folder).mkdir(exist_ok=True)
    settings = root / SETTINGS_NAME
    cohort = Cohort(root, db_url or f"sqlite:///{root / 'gradebook.db'}", course_id,
                    Path(course_source))
    for name in list_assignments(course_source):
        if not (cohort.source / name).exists():
            cohort.assignment(name)
    with cohort.gradebook():
        pass
    if not settings.exists():  # written last: its presence means the cohort is complete
        atomic_write(settings, (json.dumps({"course_source": str(course_source),
                                            "created": datetime.now(timezone.utc).isoformat()}, indent=1)
                                + "\n").encode())
    return open_cohort(root)


def open_cohort(root: Path) -> Cohort:
    """The cohort at ``root``; CohortError says how to create it when it is not one."""
    root = Path(root).absolute()
    settings_path = root / SETTINGS_NAME
    if not settings_path.is_file() or not (root / CONFIG_NAME).is_file():
        raise CohortError(f"{root} is not a cohort folder: create it with `python -m autograder init {root}`")
    settings = json.loads(settings_path.read_text())
    config = load_nbgrader_config(root)
    db_url = config.get("db_url") or f"sqlite:///{root / 'gradebook.db'}"
    if url_password(db_url) and (root / CONFIG_NAME).stat().st_mode & 0o077:
        os.chmod(root / CONFIG_NAME, 0o600)  # it holds a password: readable by the instructor only
    return Cohort(root, db_url, config.get("course_id") or COURSE_ID, Path(settings["course_source"]))


def load_nbgrader_config(root: Path) -> dict:
    """``CourseDirectory`` settings from the cohort's nbgrader_config.py (the instructor's trusted file)."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG_NAME, path=str(root)).load_config()
    section = config.get("CourseDirectory", {})
    return {key: section[key] for key in ("db_url", "course_id") if key in section}


@contextlib.contextmanager
def cohort_lock(cohort: Cohort, name: str, waiting: str = "") -> Iterator[None]:
    """Hold the cohort's lock ``name`` (an flock on ``.locks/<name>.lock``), waiting for another holder.

    ``waiting`` is printed to stderr once if the lock is busy. The lock goes with the process,
    so a crashed holder never leaves it stuck.
    """
    folder = cohort.root / ".locks"
    folder.mkdir(exist_ok=True)
    with open(folder / f"{name}.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting:
                print(waiting, file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def register_assignment(cohort: Cohort, name: str) -> None:
    """Let nbgrader record ``name`` in the gradebook (``nbgrader generate_assignment``), once per source version.

    One registration at a time per cohort: two ``generate_assignment`` at once collide in the database
    and one removes the release folder the other uses.
    """
    spec = cohort.assignment(name)
    marker = cohort.root / "release" / name / ".autograder-source-sha256"
    if marker.is_file() and marker.read_text().strip() == spec.sha256:
        return
    with cohort_lock(cohort, "register", f"waiting for another process to register {name} in {cohort.root} ..."):
        if marker.is_file() and marker.read_text().strip() == spec.sha256:
            return
        result = run_nbgrader(cohort, "generate_assignment", name, "--force")
        if result.returncode != 0:
            raise CohortError(f"`nbgrader generate_assignment {name}` failed in {cohort.root}:\n"
                              f"{redact((result.stderr or result.stdout)[-3000:], cohort.db_url)}")
        atomic_write(marker, (spec.sha256 + "\n").encode())


def run_nbgrader(cohort: Cohort, *args: str) -> subprocess.CompletedProcess:
    """Run an nbgrader command in the cohort (its ``alembic`` must be on PATH: the interpreter's bin comes first)."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={cohort.root}"],
                          cwd=cohort.root, capture_output=True, text=True, timeout=900, env=env)
