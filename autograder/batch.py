"""``grade``: autograde every collected submission of an assignment, idempotently.

A submission whose fingerprint (its bytes, the source notebook, the limits and the
grader's version) matches the stored one is skipped, so re-running ``grade`` changes
nothing unless something changed; ``sandbox_error`` results are always retried;
``--force`` regrades everything.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from autograder import statuses
from autograder.cohort import Cohort, register_assignment
from autograder.collect import recover_interrupted, submitted_files
from autograder.grader import SubmissionResult, fingerprint, grade_submissions
from autograder.progress import ProgressBar
from autograder.records import open_gradebook, read_timestamp, record_submission, stored_results, write_autograded
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
                     keep_results: bool = False) -> GradeReport:
    """Grade the collected submissions of ``name`` (all students, or ``students``)."""
    import time

    started = time.monotonic()
    register_assignment(cohort, name)
    assignment = cohort.assignment(name)
    others = cohort.all_assignments()
    recover_interrupted(cohort, name)
    wanted = cohort.students_with_submissions(name)
    if students:
        wanted = [s for s in wanted if s in set(students)]
    report = GradeReport(name)
    with open_gradebook(cohort) as gradebook:
        stored = stored_results(gradebook, name)
        todo = []
        for student in wanted:
            files = submitted_files(cohort.submitted(student, name))
            row = stored.get((name, student))
            if (not force and row is not None and row["status"] not in statuses.RETRIED
                    and row["fingerprint"] == fingerprint(assignment, files, limits)):
                report.skipped += 1
                continue
            todo.append((student, files))
        progress = ProgressBar(len(todo), f"grading {name}") if show_progress and todo else None
        for result in grade_submissions(assignment, todo, others, limits, jobs, isolated):
            try:
                write_autograded(cohort, result)
            except (ValueError, RecursionError, OSError) as error:
                for notebook in result.notebooks:
                    notebook.autograded = None
                    problem = f"its autograded notebook could not be written ({type(error).__name__})"
                    notebook.notes.append(problem)
                    notebook.message = "; ".join(filter(None, [notebook.message, problem]))
                write_autograded(cohort, result)
            record_submission(gradebook, result, read_timestamp(cohort.submitted(result.student, name)))
            report.graded += 1
            report.statuses[result.status] += 1
            if keep_results:
                report.results.append(result)
            if progress is not None:
                progress.advance(f"{result.student}: {result.status}")
        if progress is not None:
            progress.close()
    report.seconds = time.monotonic() - started
    return report
