"""Host side of the sandbox: a pool of warm workers that each run one notebook at a time.

Each worker is a long-lived Python process (inside bubblewrap unless ``--no-sandbox``)
that has already imported numpy, matplotlib, ipywidgets and the course, and forks a
fresh child per notebook. The pool feeds jobs to idle workers from one thread per
worker, restarts a worker that is lost, and retries a job once when its child never
started (the host's analogue of a kernel that stalls before its first cell).
"""

from __future__ import annotations

import collections
import itertools
import os
import queue
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from autograder.sandbox.bwrap import SandboxSettings, bwrap_command, hello_frame, unsandboxed_command
from autograder.sandbox.protocol import MAX_REPLY_FRAME, encode_frame, read_frame

START_TIMEOUT_S = 120.0
HOST_GRACE_S = 30.0


@dataclass(frozen=True)
class Limits:
    """Resource limits for one notebook run (the whole notebook, not one cell)."""

    timeout_s: float = 60.0
    memory_bytes: int = 2 * 1024 ** 3
    output_bytes: int = 8 * 1024 ** 2
    file_bytes: int = 64 * 1024 ** 2
    max_tasks: int = 64

    def as_job(self) -> dict:
        """The limits as the worker reads them."""
        return {"timeout_s": float(self.timeout_s), "memory_bytes": int(self.memory_bytes),
                "output_bytes": int(self.output_bytes), "file_bytes": int(self.file_bytes),
                "max_tasks": int(self.max_tasks), "nproc_base": _nproc_base()}


def _nproc_base() -> int:
    """Processes the learner's uid already has outside the sandbox (0 as root: it gets a uid of its own)."""
    if os.geteuid() == 0:
        return 0
    count = 0
    uid_field = f"\t{os.getuid()}\t".encode()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status", "rb") as handle:
                    for line in handle:
                        if line.startswith(b"Uid:"):
                            count += line.startswith(b"Uid:" + uid_field)
                            break
            except OSError:
                continue
    return count + 64


class WorkerLost(RuntimeError):
    """The worker process ended or stopped answering."""


class Worker:
    """One warm sandboxed worker process (a fork server) and the pipes to it."""

    def __init__(self, settings: SandboxSettings, slot: int):
        self.settings = settings
        self.slot = slot
        self.process: subprocess.Popen | None = None
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=50)
        self.scratch: Path | None = None

    def start(self) -> None:
        """Start the process, send the hello frame and wait until it is warm."""
        if self.settings.isolated:
            argv, env = bwrap_command(self.settings), {}
        else:
            self.scratch = Path(tempfile.mkdtemp(prefix="autograder-nosandbox-"))
            argv, env = unsandboxed_command(self.settings, self.scratch)
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env, start_new_session=True,
                                        cwd=self.scratch or "/")
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        self._send(hello_frame(self.settings, self.slot, self.scratch))
        ready = self._receive(START_TIMEOUT_S)
        if ready.get("kind") != "ready":
            raise WorkerLost(f"worker {self.slot} did not start: {self.describe_stderr()}")

    def run(self, job: dict, host_timeout_s: float) -> dict:
        """Send ``job`` and wait for its ``done`` reply."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        self._send(job)
        reply = self._receive(host_timeout_s)
        if reply.get("kind") != "done" or reply.get("job") != job["job"]:
            raise WorkerLost(f"worker {self.slot} answered out of turn")
        return reply

    def stop(self) -> None:
        """End the worker and everything it started (its own process group)."""
        process, self.process = self.process, None
        if process is not None:
            try:
                process.stdin.close()
            except OSError:
                pass
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass
            process.wait()
            for stream in (process.stdout, process.stderr):
                try:
                    stream.close()
                except OSError:
                    pass
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def kill(self) -> None:
        """SIGKILL the worker's whole process group (safe from any thread; ``stop`` cleans up later)."""
        process = self.process
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass

    def describe_stderr(self) -> str:
        text = "".join(self.stderr_tail).strip()
        return text[-3000:] if text else "(no error output)"

    def _send(self, message: dict) -> None:
        try:
            self.process.stdin.write(encode_frame(message))
            self.process.stdin.flush()
        except (OSError, ValueError) as error:
            raise WorkerLost(f"worker {self.slot} is gone ({error}): {self.describe_stderr()}") from None

    def _receive(self, timeout_s: float) -> dict:
        fd = self.process.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout_s)
        if not ready:
            self.stop()
            raise WorkerLost(f"worker {self.slot} did not answer within {timeout_s:.0f} s")
        try:
            frame = read_frame(fd, MAX_REPLY_FRAME)
        except ValueError as error:
            self.stop()
            raise WorkerLost(f"worker {self.slot} sent a bad frame ({error})") from None
        if frame is None:
            raise WorkerLost(f"worker {self.slot} exited: {self.describe_stderr()}")
        return frame

    def _drain_stderr(self) -> None:
        process = self.process
        for line in iter(process.stderr.readline, b""):
            self.stderr_tail.append(line.decode("utf-8", "replace"))


class WorkerPool:
    """``size`` workers running jobs in parallel; use as a context manager."""

    def __init__(self, settings: SandboxSettings, size: int):
        self.settings = settings
        self.size = max(1, int(size))
        self._job_ids = itertools.count(1)

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def run_all(self, jobs: Iterable[tuple]) -> Iterator[tuple[object, dict]]:
        """Run every ``(key, cells, limits[, learner[, salt]])`` job; yield ``(key, reply)`` in completion order.

        A reply's ``status`` is ``ok`` or a limit the notebook hit (``timeout``,
        ``kernel_died``...), or ``sandbox_error`` when the infrastructure failed twice.
        """
        pending: queue.Queue = queue.Queue()
        results: queue.Queue = queue.Queue()
        count = 0
        for key, cells, limits, *identity in jobs:
            learner, salt = (list(identity) + [None, ""])[:2]
            pending.put((key, cells, limits, learner, salt))
            count += 1
        workers = [Worker(self.settings, slot) for slot in range(min(self.size, count))]
        stop = threading.Event()
        threads = [threading.Thread(target=self._serve, args=(worker, pending, results, stop), daemon=True)
                   for worker in workers]
        for thread in threads:
            thread.start()
        delivered = 0
        try:
            for _ in range(count):
                yield results.get()
                delivered += 1
        finally:
            stop.set()
            if delivered < count:  # interrupted (Ctrl-C, an error in the caller): end the running notebooks now
                for worker in workers:
                    worker.kill()
            for thread in threads:
                thread.join()

    def run_one(self, cells: list[dict], limits: Limits) -> dict:
        """Run a single job (used by ``check``)."""
        (_, reply), = list(self.run_all([(None, cells, limits)]))  # consumed fully: the worker is stopped
        return reply

    def _serve(self, worker: Worker, pending: queue.Queue, results: queue.Queue, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    key, cells, limits, learner, salt = pending.get_nowait()
                except queue.Empty:
                    return
                results.put((key, run_with_retry(worker, self._job_ids, cells, limits, stop, learner, salt)))
        finally:
            worker.stop()


def run_with_retry(worker: Worker, job_ids: Iterator[int], cells: list[dict], limits: Limits,
                   stop: threading.Event | None = None, learner: str | None = None, salt: str = "") -> dict:
    """Run one notebook's ``cells`` on ``worker`` (as ``learner``'s notebook, variants drawn with ``salt``); retry
    once on a fresh worker if the infrastructure failed.

    The reply's ``status`` is ``ok``, a limit the notebook hit (``timeout``, ``kernel_died``...),
    or ``sandbox_error`` when the worker was lost or the child never started, twice.
    """
    problems = []
    for _attempt in range(2):
        if stop is not None and stop.is_set():
            problems.append("grading was interrupted")
            break
        job = {"job": next(job_ids), "cells": cells, "limits": limits.as_job(), "learner": learner, "salt": salt}
        started = time.monotonic()
        try:
            reply = worker.run(job, limits.timeout_s + HOST_GRACE_S)
        except WorkerLost as error:
            worker.stop()
            problems.append(str(error))
            continue
        reply["host_seconds"] = round(time.monotonic() - started, 4)
        if reply.get("status") == "stalled":
            worker.stop()  # a fresh worker for the retry
            problems.append(str(reply.get("detail")))
            continue
        return reply
    return {"kind": "done", "status": "sandbox_error", "detail": "; ".join(problems)[-3000:],
            "captures": {}, "outputs": {}, "events": [], "last_cell": -1, "started": False}
