"""The sandboxed fork server: runs each submission in a forked child and hands back plain data.

Runs *inside* the bubblewrap sandbox, started as ``python -m autograder.sandbox.worker``
with only this folder (and ``autograder/__init__.py``) bound there: the rest of the
``autograder`` package, the course's ``source/``, the gradebook and the other students
are not visible. It imports only the standard library, IPython and whatever the course
notebooks import. The frames it exchanges are in ``protocol.py``; the notebook shell the
child runs cells in is in ``shell.py``.

The child, not the worker, runs the learner's code. It drops to an unprivileged
uid (the worker starts as root inside the sandbox), sets resource limits, runs the
cells through the notebook shell and converts the learner variables that the tests
read to plain data (``protocol.to_plain``). Nothing it sends is trusted: the host
validates every frame and judges the plain values with its own copy of the tests.

Safety rule for ending processes: the worker only ever kills processes whose real
uid is the job's unprivileged uid (inside its own pid namespace), or, when it runs
without a sandbox, the child's own process group. It never sweeps ``/proc``
blindly, so it cannot take down the machine it runs on.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time

from autograder.sandbox.protocol import MISSING, encode_frame, frame_sender, read_frame, split_frames, to_plain, write_all
from autograder.sandbox.shell import close_figures, prepare_shell, warm_up

LEARNER_ENV = "COURSE_LEARNER_ID"
SALT_ENV = "COURSE_VARIANT_SALT"
POLL_INTERVAL_S = 0.01
STALL_LIMIT_S = 20.0
TASK_MARGIN = 4
FRAME_OVERHEAD_BYTES = 4 * 1024 * 1024


# --------------------------------------------------------------------------- the child

def run_child(job: dict, result_fd: int, uid: int | None) -> None:
    """Run one submission in this (forked) process, then exit; never returns."""
    limits = job["limits"]
    send = frame_sender(result_fd)
    try:
        _enter_jail(limits, uid)
        if isinstance(job.get("learner"), str):  # whose exercise variants the notebook shows (course.variants)
            os.environ[LEARNER_ENV] = job["learner"]
        if isinstance(job.get("salt"), str) and job["salt"]:  # the cohort's salt: the same numbers as the judge's
            os.environ[SALT_ENV] = job["salt"]
        shell = prepare_shell(send, limits)
        send({"kind": "started", "pid": os.getpid()})
        for index, cell in enumerate(job["cells"]):
            if cell.get("capture") is not None:
                user_ns = shell.user_ns
                values = {name: (to_plain(user_ns[name]) if name in user_ns else MISSING)
                          for name in cell["capture"]}
                send({"kind": "capture", "key": cell["key"], "values": values})
            send({"kind": "cell", "index": index})
            shell.current_cell = index
            shell.current_outputs = []
            shell.run_cell(cell["source"], store_history=True)
            send({"kind": "outputs", "index": index, "outputs": shell.current_outputs,
                  "count": shell.execution_count - 1})
            close_figures()
        send({"kind": "finished"})
    except BaseException as error:  # report, then exit: the worker decides what it means
        try:
            send({"kind": "crash", "error": f"{type(error).__name__}: {error}"[:2000]})
        except BaseException:
            pass
    finally:
        os._exit(0)


def _enter_jail(limits: dict, uid: int | None) -> None:
    """A new session, resource limits, an unprivileged uid and std streams away from the worker."""
    import resource

    os.setsid()
    work = limits["work_dir"]
    os.chdir(work)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"], limits["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    nproc = int(limits["max_tasks"]) + int(limits.get("nproc_base", 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    cpu = int(limits["timeout_s"]) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    stdio = os.open(os.path.join(work, ".stdio"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(stdio, 1)
    os.dup2(stdio, 2)
    os.close(stdio)
    home = os.path.join(work, ".home")
    os.environ.update(HOME=home, MPLCONFIGDIR=home, IPYTHONDIR=os.path.join(home, ".ipython"))



# --------------------------------------------------------------------------- watching the child

class Sandbox:
    """Which processes belong to the learner, and how to end them (see the module's safety rule)."""

    def __init__(self, uid: int | None, isolated: bool):
        self.uid = uid
        self.isolated = isolated
        self.uid_field = f"\t{uid}\t".encode() if uid is not None else None

    def learner_tasks(self, child_pid: int) -> dict[int, int]:
        """pid -> thread count of the learner's processes."""
        if self.uid is None and not self.isolated:
            return _group_tasks(child_pid)
        me = os.getpid()
        tasks = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in (1, me):
                continue
            status = _read_status(int(entry))
            if status is None:
                continue
            uid_line, threads = status
            if self.uid_field is not None and not uid_line.startswith(b"Uid:" + self.uid_field):
                continue
            tasks[int(entry)] = threads
        return tasks

    def end_all(self, child_pid: int) -> None:
        """SIGKILL every learner process, repeating until none is left (or giving up after ~1 s)."""
        for _ in range(200):
            if self.uid is None and not self.isolated:
                try:
                    os.killpg(child_pid, signal.SIGKILL)
                except OSError:
                    pass
            tasks = self.learner_tasks(child_pid)
            for pid in tasks:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            reap_children()
            if not tasks:
                return
            time.sleep(0.005)


def _read_status(pid: int) -> tuple[bytes, int] | None:
    """The ``Uid:`` line and the thread count of ``pid``, from /proc."""
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            uid_line, threads = b"", 1
            for line in handle:
                if line.startswith(b"Uid:"):
                    uid_line = line
                elif line.startswith(b"Threads:"):
                    threads = int(line.split()[1])
                    break
            return uid_line, threads
    except (OSError, ValueError, IndexError):
        return None


def _group_tasks(child_pid: int) -> dict[int, int]:
    """Tasks of the child's process group (used only without a sandbox: trusted code)."""
    tasks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getpgid(int(entry)) == child_pid:
                status = _read_status(int(entry))
                tasks[int(entry)] = status[1] if status else 1
        except OSError:
            continue
    return tasks


def reap_children() -> None:
    """Collect every exited child of the worker."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def reset_folder(path: str, uid: int | None) -> None:
    """Make ``path`` an empty private folder (with a home inside) for the next child."""
    import shutil

    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    os.makedirs(os.path.join(path, ".home", ".ipython"), exist_ok=True)
    for folder in (path, os.path.join(path, ".home"), os.path.join(path, ".home", ".ipython")):
        if uid is not None:
            os.chown(folder, uid, uid)
        os.chmod(folder, 0o700)


def supervise(job: dict, sandbox: Sandbox) -> dict:
    """Fork the child for ``job``, watch it under the limits, and describe how it ended."""
    limits = job["limits"]
    limits["work_dir"] = WORK_DIR
    reset_folder(WORK_DIR, sandbox.uid)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        for fd in (PROTOCOL_IN, PROTOCOL_OUT):
            os.close(fd)
        run_child(job, write_end, sandbox.uid)
    os.close(write_end)
    os.set_blocking(read_end, False)
    started_at = time.monotonic()
    deadline = started_at + float(limits["timeout_s"])
    max_bytes = int(limits["output_bytes"]) * 2 + FRAME_OVERHEAD_BYTES
    watch = _Watch(max_bytes)
    verdict, detail, exit_status, eof = None, "", None, False
    while True:
        if not eof:
            ready, _, _ = select.select([read_end], [], [], POLL_INTERVAL_S)
            if ready:
                eof = _pump(read_end, watch)
        else:
            time.sleep(POLL_INTERVAL_S)
        if watch.bytes_read > max_bytes:
            verdict, detail = "output_limit", "the notebook sent more output than allowed"
            break
        if exit_status is None:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                exit_status = status
        tasks = sandbox.learner_tasks(pid)
        count = sum(tasks.values())
        if count >= int(limits["max_tasks"]) - TASK_MARGIN:
            verdict, detail = "process_limit", f"the notebook started {count} processes or threads"
            break
        if exit_status is not None:
            break
        now = time.monotonic()
        if not watch.started and now - started_at > STALL_LIMIT_S:
            verdict, detail = "stalled", "the sandboxed child never started"
            break
        if now > deadline:
            if watch.started:
                verdict, detail = "timeout", f"still running after {limits['timeout_s']:g} s"
            else:
                verdict, detail = "stalled", "the sandboxed child never started"
            break
    if exit_status is None:
        try:
            os.kill(pid, signal.SIGKILL)  # our own direct child (not reaped yet), whatever uid it runs as by now
        except OSError:
            pass
    sandbox.end_all(pid)
    if exit_status is None:
        try:
            _, exit_status = os.waitpid(pid, 0)
        except ChildProcessError:
            exit_status = None
    reap_children()
    if not eof and watch.bytes_read <= max_bytes:
        _pump(read_end, watch)
    os.close(read_end)
    reset_folder(WORK_DIR, sandbox.uid)
    return watch.reply(job["job"], verdict, detail, exit_status, time.monotonic() - started_at)


def _pump(fd: int, watch: "_Watch") -> bool:
    """Read what is available from the child; True at end of file."""
    while True:
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            return False
        if not chunk:
            return True
        watch.feed(chunk)
        if watch.bytes_read > watch.limit_hint:
            return False


class _Watch:
    """What the child has reported so far."""

    def __init__(self, limit_hint: int):
        self.limit_hint = limit_hint
        self.buffer = bytearray()
        self.bytes_read = 0
        self.started = False
        self.finished = False
        self.crash = None
        self.captures: dict[str, dict] = {}
        self.outputs: dict[int, dict] = {}
        self.events: list[dict] = []
        self.last_cell = -1

    def feed(self, chunk: bytes) -> None:
        self.bytes_read += len(chunk)
        self.buffer.extend(chunk)
        for frame in split_frames(self.buffer):
            self.take(frame)

    def take(self, frame: dict) -> None:
        kind = frame.get("kind")
        if kind == "started":
            self.started = True
        elif kind == "capture" and isinstance(frame.get("key"), str) and frame["key"] not in self.captures:
            if isinstance(frame.get("values"), dict):
                self.captures[frame["key"]] = frame["values"]
        elif kind == "cell" and isinstance(frame.get("index"), int):
            self.last_cell = max(self.last_cell, frame["index"])
        elif kind == "outputs" and isinstance(frame.get("index"), int) and frame["index"] not in self.outputs:
            self.outputs[frame["index"]] = {"outputs": frame.get("outputs"), "count": frame.get("count")}
        elif kind == "event" and len(self.events) < 100:
            self.events.append({"what": str(frame.get("what"))[:20], "cell": frame.get("cell")})
        elif kind == "finished":
            self.finished = True
        elif kind == "crash" and self.crash is None:
            self.crash = str(frame.get("error"))[:2000]

    def reply(self, job_id, verdict, detail, exit_status, seconds) -> dict:
        """The ``done`` frame for the host."""
        if verdict is None and any(e["what"] == "output" for e in self.events):
            verdict, detail = "output_limit", "the notebook printed more output than allowed"
        if verdict is None and exit_status is not None and os.WIFSIGNALED(exit_status):
            number = os.WTERMSIG(exit_status)
            if number == signal.SIGXFSZ:
                verdict, detail = "output_limit", "the notebook wrote a file larger than allowed"
            elif number == signal.SIGXCPU:
                verdict, detail = "timeout", "the notebook used up its CPU time"
            else:
                verdict, detail = "kernel_died", f"the process was killed by signal {signal.Signals(number).name}"
        if verdict is None and not self.finished:
            verdict = "kernel_died"
            detail = "the process exited before the end of the notebook" + (
                f" ({self.crash})" if self.crash else "")
        return {"kind": "done", "job": job_id, "status": verdict or "ok", "detail": detail,
                "started": self.started, "last_cell": self.last_cell, "captures": self.captures,
                "outputs": {str(k): v for k, v in self.outputs.items()}, "events": self.events,
                "seconds": round(seconds, 4)}


# --------------------------------------------------------------------------- main loop

PROTOCOL_IN = 0
PROTOCOL_OUT = 1
WORK_DIR = "/tmp/work"


def main() -> int:
    """Read the hello frame, warm up, then serve jobs read from stdin until it closes."""
    global PROTOCOL_OUT, WORK_DIR
    import ctypes

    PROTOCOL_OUT = os.dup(1)
    devnull = os.open("/dev/null", os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    try:
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: the learner's uid cannot inspect the worker
    except Exception:
        pass
    hello = read_frame(PROTOCOL_IN)
    if hello is None or hello.get("kind") != "hello":
        return 2
    WORK_DIR = hello.get("work_dir", WORK_DIR)
    uid = hello.get("uid")
    sandbox = Sandbox(uid, bool(hello.get("isolated")))
    if uid is None and hello.get("isolated") and os.getpid() > 3:
        raise SystemExit("refusing to run: 'isolated' is set but this is not a private pid namespace")
    warm_up(list(hello.get("warm_imports", [])), list(hello.get("warm_cells", [])))
    write_all(PROTOCOL_OUT, encode_frame({"kind": "ready", "pid": os.getpid()}))
    while True:
        job = read_frame(PROTOCOL_IN)
        if job is None:
            return 0
        reply = supervise(job, sandbox)
        try:
            frame = encode_frame(reply)
        except (ValueError, TypeError, RecursionError) as error:
            frame = encode_frame({"kind": "done", "job": reply["job"], "status": "output_limit",
                                  "detail": f"the notebook's output cannot be stored ({type(error).__name__})",
                                  "started": True, "last_cell": reply["last_cell"], "captures": {},
                                  "outputs": {}, "events": [], "seconds": reply["seconds"]})
        write_all(PROTOCOL_OUT, frame)


if __name__ == "__main__":
    sys.exit(main())
