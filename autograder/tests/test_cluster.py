"""Grading on a real Dask cluster (``grade --scheduler``): same results as locally, killed workers lose nothing.

The ``dask_cluster`` fixture starts a real ``dask scheduler`` and two ``dask worker`` processes on
127.0.0.1 (no nanny, so a killed worker stays dead; ``allowed-failures`` 1).
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from distributed import Client

from autograder.course import course_source_root
from autograder.grade import grade_assignment
from autograder.sandbox.pool import Limits
from autograder.spec import load_assignment
from autograder.tests.builders import learner_notebook, plain_cell, write
from autograder.tests.cases import build_cases
from autograder.tests.conftest import SEGMENT_1, clone_cohort, needs_bwrap
from autograder.tests.test_workflow import run_cli

pytestmark = needs_bwrap
LIMITS = Limits(timeout_s=20, memory_bytes=1024 ** 3, output_bytes=2 * 1024 ** 2, max_tasks=48)
SAME_LIMITS = ["--timeout", "20", "--memory-mb", "1024", "--output-mb", "2", "--max-processes", "48"]
CASES = ("s01-right", "s02-wrong", "s03-eq-cheat", "s10-not-json", "s13-wrong-assignment", "s14-wrong-filename",
         "s16-deleted-test", "s17-duplicated-test", "s21-kernel-dies", "s23-huge-output", "s28-syntax-error")


def slow_notebook(spec, seconds: float) -> dict:
    """An honest, right notebook that takes ``seconds`` to run (time to kill the worker running it)."""
    notebook = learner_notebook(spec)
    notebook["cells"].insert(1, plain_cell(f"import time\ntime.sleep({seconds})"))
    return notebook


def outcome(results) -> dict:
    """student -> (status, score, per-exercise scores): what must not depend on where grading ran."""
    return {r.student: (r.status, r.score, [(e.grade_id, e.score, e.outcome) for n in r.notebooks
                                            for e in n.exercises]) for r in results}


def kill_when_running(cluster, student: str, grading: tuple, timeout_s: float = 120,
                      avoid: set[int] = frozenset()) -> int:
    """Wait until ``student``'s task runs on a worker, then SIGKILL that worker; return its pid."""
    deadline = time.monotonic() + timeout_s
    with Client(cluster.address, timeout=20, set_as_default=False) as client:
        while time.monotonic() < deadline and grading[0].is_alive():
            pids = client.run(os.getpid)
            for address, keys in client.processing().items():
                if any(student in str(key) for key in keys) and address in pids and pids[address] not in avoid:
                    time.sleep(0.5)  # well inside the notebook's run
                    cluster.kill_worker(pids[address])
                    return pids[address]
            time.sleep(0.1)
    report = finished(*grading, 1)  # grading ended first: its error, if any, is the failure
    raise AssertionError(f"{student}'s task never ran: {[(r.status, r.message) for r in report.results]}")


def in_background(function, *args, **kwargs):
    box = {}

    def target():
        try:
            box["value"] = function(*args, **kwargs)
        except BaseException as error:  # re-raised in the test
            box["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def finished(thread, box, timeout_s: float = 300):
    thread.join(timeout_s)
    assert not thread.is_alive(), "grading did not finish"
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.fixture(scope="module")
def template(template_cohort, tmp_path_factory, segment1):
    """A cohort with a mixed set of submissions collected, not graded yet."""
    base = tmp_path_factory.mktemp("cluster")
    cohort = clone_cohort(template_cohort, base / "template")
    other = load_assignment(course_source_root(), "02-moe-racks")
    for case in build_cases(segment1, cohort.root, other):
        if case.student in CASES:
            for name, data in case.files.items():
                target = cohort.submitted(case.student, SEGMENT_1) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
    write(cohort.submitted("s30-slow", SEGMENT_1) / segment1.notebooks[0].filename,
          slow_notebook(segment1.notebooks[0], 4))
    return cohort.root


def test_a_killed_worker_loses_nothing_and_results_match_the_local_run(template, tmp_path, dask_cluster):
    local = grade_assignment(clone_cohort(template, tmp_path / "local"), SEGMENT_1, 2, LIMITS,
                             show_progress=False, keep_results=True)
    on_cluster = clone_cohort(template, tmp_path / "cluster")
    thread, box = in_background(grade_assignment, on_cluster, SEGMENT_1, 1, LIMITS, show_progress=False,
                                keep_results=True, scheduler=dask_cluster.address)
    kill_when_running(dask_cluster, "s30-slow", (thread, box))
    remote = finished(thread, box)
    dask_cluster.add_worker()
    assert remote.graded == local.graded == len(CASES) + 1
    assert outcome(remote.results) == outcome(local.results), [r.message for r in remote.results
                                                               if r.status == "sandbox_error"]
    assert outcome(remote.results)["s30-slow"][0] == "graded"
    assert (on_cluster.autograded("s30-slow", SEGMENT_1) / "01-batch-size.ipynb").is_file()

    code, output = run_cli("grade", on_cluster.root, SEGMENT_1, "--scheduler", dask_cluster.address, *SAME_LIMITS)
    assert code == 0 and "graded 0" in output and f"unchanged {len(CASES) + 1}" in output, output
    code, output = run_cli("grade", on_cluster.root, SEGMENT_1, "--scheduler", dask_cluster.address, "--force",
                           "--student", "s02-wrong", *SAME_LIMITS)
    assert code == 0 and "graded 1" in output and "grading 01-batch-size 1/1" in output, output


def test_a_submission_that_kills_workers_repeatedly_ends_as_sandbox_error(template, tmp_path, dask_cluster,
                                                                          segment1):
    from autograder.tests.services import wait_for_workers

    cohort = clone_cohort(template, tmp_path / "poison")
    wait_for_workers(dask_cluster.address, 2)
    thread, box = in_background(grade_assignment, cohort, SEGMENT_1, 1, LIMITS, students=["s30-slow"],
                                show_progress=False, keep_results=True, scheduler=dask_cluster.address)
    first = kill_when_running(dask_cluster, "s30-slow", (thread, box))
    kill_when_running(dask_cluster, "s30-slow", (thread, box), avoid={first})
    report = finished(thread, box)
    assert [r.status for r in report.results] == ["sandbox_error"]
    assert "killed Dask workers repeatedly" in report.results[0].message
    dask_cluster.add_worker()
    again = grade_assignment(cohort, SEGMENT_1, 1, LIMITS, students=["s30-slow"], show_progress=False,
                             keep_results=True, scheduler=dask_cluster.address)
    assert [(r.status, r.score) for r in again.results] == [("graded", segment1.max_score)]
