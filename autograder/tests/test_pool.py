"""The pool's retry rules, with fake workers: a stalled or lost run is retried once, then reported."""

from __future__ import annotations

import itertools

from autograder.sandbox.pool import Limits, WorkerLost, run_with_retry


class FakeWorker:
    """Answers with the scripted replies (or raises WorkerLost for ``"lost"``)."""

    def __init__(self, script):
        self.script = list(script)
        self.stopped = 0

    def run(self, job, timeout):
        step = self.script.pop(0)
        if step == "lost":
            raise WorkerLost("worker 0 exited: boom")
        return {"kind": "done", "job": job["job"], "status": step, "detail": f"{step} detail"}

    def stop(self):
        self.stopped += 1


def run(script):
    worker = FakeWorker(script)
    return run_with_retry(worker, itertools.count(1), [], Limits()), worker


def test_a_stalled_child_is_retried_on_a_fresh_worker():
    reply, worker = run(["stalled", "ok"])
    assert reply["status"] == "ok" and worker.stopped == 1


def test_a_lost_worker_is_retried_then_reported_as_a_sandbox_error():
    reply, worker = run(["lost", "lost"])
    assert reply["status"] == "sandbox_error" and "boom" in reply["detail"] and worker.stopped == 2


def test_limits_reached_by_the_notebook_are_not_retried():
    reply, _ = run(["timeout", "ok"])
    assert reply["status"] == "timeout"
