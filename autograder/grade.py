"""``grade``: autograde every collected submission of an assignment, idempotently.

A submission whose fingerprint (its bytes, the source notebook, the course package,
the variant salt, the limits and the grader's version) matches the stored one is skipped, so re-running
``grade`` changes nothing unless something changed; ``sandbox_error`` results are
always retried; ``--force`` regrades everything.

Submissions run on the local pool of warm sandboxes, or with ``scheduler`` on a Dask
cluster (``cluster.py``). Either way this process is the only writer of the cohort
folder and the gradebook. Two ``grade`` runs of one assignment in one cohort take
turns (the second waits, then finds the work done); other assignments run beside.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from autograder import statuses
from autograder.cohort import Cohort, cohort_lock, register_assignment
from autograder.collect import recover_interrupted, skipped_files, submitted_files
from autograder.course import course_digest, with_release_fingerprints
from autograder.engine import Submission, fingerprint, grade_submissions
from autograder.families import VariantContext, read_salt
from autograder.progress import ProgressBar
from autograder.records import read_timestamp, record_submission, stored_results, write_autograded
from autograder.results import SubmissionResult
from autograder.sandbox.pool import Limits


@dataclass
class GradeReport:
    """What a ``grade`` run did."""

    assignment: str
    graded: int = 0
    skipped: int = 0
    statuses: Counter = field(default_factory=Counter)
    results: list[SubmissionResult] = field(default_factory=list)
    seconds: float = 0.0


def grade_assignment(cohort: Cohort, name: str, jobs: int, limits: Limits, force: bool = False,
                     isolated: bool = True, students: list[str] | None = None, show_progress: bool = True,
                     keep_results: bool = False, scheduler: str | None = None) -> GradeReport:
    """Grade the collected submissions of ``name`` (all students, or ``students``).

    ``scheduler`` (``tcp://host:port``) grades on that Dask cluster instead of ``jobs`` local sandboxes.
    """
    import time

    started = time.monotonic()
    register_assignment(cohort, name)
    with cohort_lock(cohort, f"grade-{name}", f"another `grade` of {name} is running in {cohort.root}: "
                                              "waiting for it to finish (unchanged submissions are then skipped)"):
        report = _grade_locked(cohort, name, jobs, limits, force, isolated, students, show_progress, keep_results,
                               scheduler)
    report.seconds = time.monotonic() - started
    return report


def _grade_locked(cohort: Cohort, name: str, jobs: int, limits: Limits, force: bool, isolated: bool,
                  students: list[str] | None, show_progress: bool, keep_results: bool,
                  scheduler: str | None) -> GradeReport:
    assignment = with_release_fingerprints(cohort.assignment(name), cohort.course_source)
    others = cohort.all_assignments()
    recover_interrupted(cohort, name)
    wanted = cohort.students_with_submissions(name)
    if students:
        wanted = [s for s in wanted if s in set(students)]
    report = GradeReport(name)
    course = course_digest()
    with cohort.gradebook() as gradebook:
        stored = stored_results(gradebook, name)
        variants = VariantContext(read_salt(cohort.root), tuple(sorted(s.id for s in gradebook.students)))
        todo = []
        for student in wanted:
            folder = cohort.submitted(student, name)
            submission = Submission(student, tuple(submitted_files(folder)), skipped_files(folder))
            row = stored.get((name, student))
            if (not force and row is not None and row["status"] not in statuses.RETRIED
                    and row["fingerprint"] == fingerprint(assignment, submission, limits, course, variants.salt)):
                report.skipped += 1
                continue
            todo.append(submission)
        progress = ProgressBar(len(todo), f"grading {name}") if show_progress and todo else None
        if scheduler:
            from autograder.cluster import grade_on_cluster

            results = grade_on_cluster(scheduler, assignment, todo, others, limits, isolated, variants)
        else:
            results = grade_submissions(assignment, todo, others, limits, jobs, isolated, variants)
        for result in results:
            _write(cohort, name, gradebook, result)
            report.graded += 1
            report.statuses[result.status] += 1
            if keep_results:
                report.results.append(result)
            if progress is not None:
                progress.advance(f"{result.student}: {result.status}")
        if progress is not None:
            progress.close()
    return report


def _write(cohort: Cohort, name: str, gradebook, result: SubmissionResult) -> None:
    """The autograded notebooks, then the gradebook rows (this process is their only writer)."""
    folder = cohort.autograded(result.student, name)
    try:
        write_autograded(folder, result)
    except (ValueError, RecursionError, OSError) as error:
        for notebook in result.notebooks:
            notebook.autograded = None
            problem = f"its autograded notebook could not be written ({type(error).__name__})"
            notebook.notes.append(problem)
            notebook.message = "; ".join(filter(None, [notebook.message, problem]))
        write_autograded(folder, result)
    record_submission(gradebook, result, read_timestamp(cohort.submitted(result.student, name)))
