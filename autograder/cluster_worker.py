"""What runs on each Dask worker: warm sandboxes (a worker plugin) and the grading task.

See ``cluster.py`` for the whole design; this module is imported by Dask on the workers
(it needs ``distributed``, the course package and bubblewrap, not the cohort).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import tempfile
import threading
from pathlib import Path
from typing import Iterator

from distributed import WorkerPlugin, get_worker

from autograder.course import course_digest
from autograder.engine import Submission, grade_one, sandbox_settings
from autograder.families import VariantContext
from autograder.judge import NO_VARIANTS
from autograder.results import SubmissionResult
from autograder.sandbox.bwrap import SandboxSettings
from autograder.sandbox.pool import Limits, Worker, run_with_retry
from autograder.spec import AssignmentSpec

PLUGIN_NAME = "autograder-warm-sandboxes"


class CourseMismatch(RuntimeError):
    """This worker's ``course`` package differs from the coordinator's."""


class WarmSandboxes(WorkerPlugin):
    """A Dask worker plugin: warm sandboxes per (assignment warm-up, isolation), one per running task.

    Each plugin instance (one per Dask worker) gives its sandboxes learner uids of their own,
    so several Dask workers on one machine never share a uid (or its process limit).
    """

    idempotent = True  # a second `grade` run keeps the warm sandboxes of the first

    def setup(self, worker) -> None:
        """Runs on the worker (the plugin is pickled before: nothing unpicklable is made earlier)."""
        self.idle: dict[SandboxSettings, list[Worker]] = {}
        self.uid_offset = random.randrange(0, 1 << 20) * 64
        self.slots = itertools.count()
        self.job_ids = itertools.count(1)
        self.lock = threading.Lock()

    def teardown(self, worker) -> None:
        with self.lock:
            sandboxes = [s for group in self.idle.values() for s in group]
            self.idle = {}
        for sandbox in sandboxes:
            sandbox.stop()

    def local_settings(self, wanted: SandboxSettings) -> SandboxSettings:
        """The coordinator's wishes (isolation, warm-up) with this machine's interpreter, course and uids."""
        return SandboxSettings(isolated=wanted.isolated, tmp_size_bytes=wanted.tmp_size_bytes,
                               warm_imports=wanted.warm_imports, warm_cells=wanted.warm_cells,
                               uid_offset=self.uid_offset)

    @contextlib.contextmanager
    def borrow(self, wanted: SandboxSettings) -> Iterator[Worker]:
        """A warm sandbox for one task (started on first use; returned for the next task afterwards)."""
        settings = self.local_settings(wanted)
        with self.lock:
            group = self.idle.setdefault(settings, [])
            sandbox = group.pop() if group else Worker(settings, next(self.slots) % 64)
        try:
            yield sandbox
        except BaseException:
            sandbox.stop()
            raise
        with self.lock:
            self.idle.setdefault(settings, []).append(sandbox)


def hold(value):
    """A task that returns its argument: data the scheduler can recompute if the worker holding it dies
    (scattered data would be lost with its last worker, and the tasks needing it cancelled)."""
    return value


def worker_report(isolated: bool) -> dict:
    """What the coordinator checks on every worker before grading: its course digest and its sandbox."""
    problem = ""
    if isolated:
        from autograder.sandbox.bwrap import SandboxUnavailable, find_bwrap

        try:
            find_bwrap()
        except SandboxUnavailable as error:
            problem = str(error)
    return {"course": course_digest(), "sandbox": problem}


def grade_task(assignment: AssignmentSpec, others: list[AssignmentSpec], student: str,
               files: list[tuple[str, bytes, float]], skipped: tuple, limits: Limits, isolated: bool,
               expected_course: str, fingerprint_: str, variants: VariantContext = NO_VARIANTS) -> SubmissionResult:
    """Runs on a Dask worker: grade one submission in this worker's warm sandboxes."""
    mine = course_digest()
    if mine != expected_course:
        raise CourseMismatch(f"the course package on {get_worker().address} ({mine[:12]}) differs from the "
                             f"coordinator's ({expected_course[:12]}): install the same course version")
    plugin = get_worker().plugins[PLUGIN_NAME]
    with tempfile.TemporaryDirectory(prefix="autograder-task-") as folder:
        paths = []
        for name, data, mtime in files:
            path = Path(folder) / Path(name).name
            path.write_bytes(data)
            os.utime(path, (mtime, mtime))
            paths.append(path)
        submission = Submission(student, tuple(sorted(paths)), tuple(tuple(s) for s in skipped))
        with plugin.borrow(sandbox_settings(assignment, isolated)) as sandbox:
            def run(cells: list[dict], run_limits: Limits, learner: str | None, salt: str) -> dict:
                return run_with_retry(sandbox, plugin.job_ids, cells, run_limits, None, learner, salt)

            return grade_one(assignment, submission, others, limits, run, fingerprint_, variants)
