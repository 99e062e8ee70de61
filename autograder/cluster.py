"""Grading on a Dask distributed cluster (``grade --scheduler tcp://HOST:PORT``).

This module is the coordinator's side; ``cluster_worker.py`` is what runs on the workers.

* Each Dask worker holds warm sandboxes (``WarmSandboxes``, a worker plugin): bubblewrap
  workers that have imported the course and run the assignment's locked cells, started
  on the first task that needs them and kept for later tasks and later ``grade`` runs.
* A task is one submission: its file bytes (with their mtimes) and the limits travel with
  it, and the assignment's source notebooks (test cells included) with the run, once, as a
  task the scheduler recomputes if every worker holding it dies. So a worker needs only the
  course package, this package and bubblewrap, never the cohort folder or the database.
  The task returns the plain-data ``SubmissionResult``.
* The coordinator (the ``grade`` process) is the only writer of the cohort folder and
  the gradebook. It keeps a bounded window of tasks in flight, so 100,000 submissions
  never sit in the scheduler's memory at once.
* Faults: the scheduler reruns the tasks of a worker that dies on another worker; a
  submission whose task kills workers ``distributed.scheduler.allowed-failures`` + 1
  times (default 3 + 1) ends as ``KilledWorker`` and is recorded as ``sandbox_error``
  (retried by the next ``grade``); any other failure of a task is that submission's
  ``sandbox_error``. The batch always finishes.
* Every worker must grade with the same ``course`` package as the coordinator (the
  expected values come from it): a worker whose package differs is refused.
"""

from __future__ import annotations

import uuid
from typing import Iterator

from autograder import statuses
from autograder.course import course_digest
from autograder.engine import Submission, fingerprint, result_without_run
from autograder.families import VariantContext
from autograder.judge import NO_VARIANTS
from autograder.results import SubmissionResult
from autograder.sandbox.pool import Limits
from autograder.spec import AssignmentSpec

CONNECT_TIMEOUT_S = 30
WORKER_WAIT_S = 120
TASKS_PER_THREAD = 4
"""Tasks kept in flight per worker thread: enough to keep every worker busy, few enough to stay small."""


class ClusterError(RuntimeError):
    """The cluster cannot be used for this run (unreachable, no workers, a worker with another course)."""


def _task_arguments(submission: Submission) -> list[tuple[str, bytes, float]]:
    return [(path.name, path.read_bytes(), path.stat().st_mtime) for path in submission.files]


def failed_result(assignment: AssignmentSpec, student: str, fingerprint_: str, detail: str) -> SubmissionResult:
    """A submission the cluster could not grade: ``sandbox_error`` on each notebook (retried by the next run)."""
    notebooks = [result_without_run(spec, statuses.SANDBOX_ERROR, detail) for spec in assignment.notebooks]
    return SubmissionResult(student, assignment.name, notebooks, fingerprint_)


def connect(scheduler: str):
    """A Dask client of ``scheduler`` with at least one worker; ClusterError says what is wrong."""
    from distributed import Client

    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler} ({error}): start one with "
                           "`dask scheduler` and pass its tcp://HOST:PORT") from None
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_S)
    except TimeoutError:
        client.close()
        raise ClusterError(f"the Dask scheduler at {scheduler} has no worker after {WORKER_WAIT_S} s: start "
                           f"workers with `dask worker {scheduler} --nthreads 1`") from None
    return client


def grade_on_cluster(scheduler: str, assignment: AssignmentSpec, submissions: list[Submission],
                     others: list[AssignmentSpec], limits: Limits, isolated: bool = True,
                     variants: VariantContext = NO_VARIANTS) -> Iterator[SubmissionResult]:
    """Grade ``submissions`` on the Dask cluster at ``scheduler``; yield each result as it arrives.

    ``variants`` (the salt and the roster) travels once per run, like the assignment.
    """
    if not submissions:
        return
    from distributed import KilledWorker, as_completed

    from autograder.cluster_worker import PLUGIN_NAME, CourseMismatch, WarmSandboxes, grade_task, hold, worker_report

    client = connect(scheduler)
    try:
        expected = course_digest()
        client.register_plugin(WarmSandboxes(), name=PLUGIN_NAME)
        for address, report in client.run(worker_report, isolated).items():
            if report["course"] != expected:
                raise ClusterError(f"the Dask worker {address} has another version of the course package "
                                   f"({report['course'][:12]}, here {expected[:12]}): install the same course on "
                                   "every worker")
            if report["sandbox"]:
                raise ClusterError(f"the Dask worker {address} cannot sandbox submissions: {report['sandbox']}")
        run = uuid.uuid4().hex[:12]  # keys unique per run: a finished run's keys may still be being forgotten
        assignment_f = client.submit(hold, assignment, key=f"assignment-{assignment.name}-{run}", pure=False)
        others_f = client.submit(hold, others, key=f"assignments-{run}", pure=False)
        variants_f = client.submit(hold, variants, key=f"variants-{run}", pure=False)
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()) or 1
        queue = iter(submissions)
        owners = {}
        running = as_completed(loop=client.loop)

        def submit_next() -> bool:
            submission = next(queue, None)
            if submission is None:
                return False
            fp = fingerprint(assignment, submission, limits, expected, variants.salt)
            future = client.submit(grade_task, assignment_f, others_f, submission.student,
                                   _task_arguments(submission), submission.skipped, limits, isolated, expected, fp,
                                   variants_f, key=f"grade-{assignment.name}-{submission.student}-{run}", pure=False)
            owners[future.key] = (submission.student, fp)
            running.add(future)
            return True

        for _ in range(threads * TASKS_PER_THREAD):
            if not submit_next():
                break
        for future in running:
            student, fp = owners.pop(future.key)
            try:
                result = future.result()
            except CourseMismatch as error:
                raise ClusterError(str(error)) from None
            except KilledWorker as error:
                result = failed_result(assignment, student, fp, f"the grading task killed Dask workers repeatedly "
                                                                 f"and was given up ({error})")
            except Exception as error:  # never let one submission stop the batch
                result = failed_result(assignment, student, fp,
                                       f"the grading task failed ({type(error).__name__}: {str(error)[:300]})")
            future.release()
            submit_next()
            yield result
    finally:
        client.close()
