"""The sandbox's limits and walls, tested with tiny limits so nothing can hurt the shared machine."""

from __future__ import annotations

import os

import pytest

from autograder.sandbox.bwrap import SandboxSettings
from autograder.sandbox.pool import Limits, WorkerPool
from autograder.tests.conftest import needs_bwrap

TINY = Limits(timeout_s=5, memory_bytes=768 * 1024 ** 2, output_bytes=256 * 1024, file_bytes=1024 ** 2,
              max_tasks=24)

CASES = {
    "fork_bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
    "memory": "hog = bytearray(2 * 1024 ** 3)",
    "print_flood": "while True:\n    print('x' * 10_000)",
    "fd_flood": "import os\nwhile True:\n    os.write(1, b'x' * 100_000)",
    "exit": "import os\nos._exit(3)",
    "segfault": "import ctypes\nctypes.string_at(0)",
    "sleep": "import time\ntime.sleep(60)",
    "daemon": "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nprint('parent done')",
    "network": "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)",
    "walls": ("import os\nprint(sorted(os.environ))\nprint(os.path.exists(%r), sorted(os.listdir(%r)))\n"
              "print(os.getuid(), os.listdir('/proc'))"),
    "kill_worker": "import os, signal\nfor pid in (1, 2, 3):\n    try:\n        os.kill(pid, signal.SIGKILL)\n"
                   "    except OSError as error:\n        print(pid, type(error).__name__)",
}


def job(code: str) -> list[dict]:
    return [{"source": "before = 1", "capture": None, "key": None},
            {"source": code, "capture": None, "key": None},
            {"source": "after = 2", "capture": ["before", "after"], "key": "end"}]


@pytest.fixture(scope="module")
def replies():
    from autograder.course import REPO_ROOT

    os.environ["AUTOGRADER_SECRET_CANARY"] = "visible?"
    cases = dict(CASES, walls=CASES["walls"] % (str(REPO_ROOT / "source"), str(REPO_ROOT)))
    try:
        with WorkerPool(SandboxSettings(warm_imports=("numpy",)), 2) as pool:
            return dict(pool.run_all([(name, job(code), TINY) for name, code in cases.items()]))
    finally:
        del os.environ["AUTOGRADER_SECRET_CANARY"]


def text_of(reply, index="1") -> str:
    outputs = reply["outputs"].get(index, {}).get("outputs", [])
    return "".join(o.get("text", "") + o.get("evalue", "") for o in outputs)


pytestmark = needs_bwrap


@pytest.mark.parametrize("name, status", [("fork_bomb", "process_limit"), ("print_flood", "output_limit"),
                                          ("exit", "kernel_died"), ("segfault", "kernel_died"),
                                          ("sleep", "timeout")])
def test_limits_end_the_notebook_with_a_status(replies, name, status):
    reply = replies[name]
    assert reply["status"] == status, reply.get("detail")
    assert "end" not in reply["captures"], "nothing after the problem cell ran"


def test_memory_exhaustion_is_reported_and_the_notebook_goes_on(replies):
    reply = replies["memory"]
    assert reply["status"] == "ok" and {"what": "memory", "cell": 1} in reply["events"]
    assert reply["captures"]["end"]["before"] == {"t": "int", "v": 1}


def test_writing_past_the_file_limit_fails_inside_the_notebook(replies):
    reply = replies["fd_flood"]
    assert {"what": "disk", "cell": 1} in reply["events"] and "File too large" in text_of(reply)


def test_background_processes_do_not_outlive_their_notebook(replies):
    reply = replies["daemon"]
    assert reply["status"] == "ok" and "parent done" in text_of(reply)
    assert reply["seconds"] < 5


def test_no_network_no_host_environment_no_repository(replies):
    assert "Network is unreachable" in text_of(replies["network"])
    walls = text_of(replies["walls"])
    assert "AUTOGRADER_SECRET_CANARY" not in walls
    assert "False ['.venv']" in walls, "of the repository, only the virtualenv is visible (read-only)"
    assert not walls.split("\n")[2].startswith("0 "), "learner code does not run as root"


def test_the_learner_cannot_kill_the_worker(replies):
    assert "PermissionError" in text_of(replies["kill_worker"])
    assert replies["kill_worker"]["status"] == "ok"


def test_a_notebook_sees_nothing_left_by_the_previous_one():
    first = "open('left-behind.txt', 'w').write('secret')\nimport os\nprint(os.getcwd())"
    second = "import os\nprint(sorted(os.listdir('.')), os.path.exists('left-behind.txt'))"
    with WorkerPool(SandboxSettings(), 1) as pool:
        results = dict(pool.run_all([("first", job(first), TINY), ("second", job(second), TINY)]))
    assert results["first"]["status"] == "ok"
    assert "False" in text_of(results["second"]) and "left-behind" not in text_of(results["second"])


def test_without_a_sandbox_notebooks_still_run(tmp_path):
    """--no-sandbox (trusted code only) uses the same worker, without bubblewrap."""
    with WorkerPool(SandboxSettings(isolated=False), 1) as pool:
        reply = pool.run_one(job("print('plain run')"), TINY)
    assert reply["status"] == "ok" and "plain run" in text_of(reply)
    assert reply["captures"]["end"]["before"] == {"t": "int", "v": 1}


def test_grading_refuses_to_run_unsandboxed_without_bubblewrap(monkeypatch, capsys):
    from autograder.cli import main
    from autograder.sandbox import bwrap

    monkeypatch.setattr(bwrap.shutil, "which", lambda name: None)
    monkeypatch.setattr(bwrap.os, "access", lambda path, mode: False)
    assert main(["grade", "/nonexistent-cohort", "01-batch-size"]) == 2
    assert "apt-get install -y bubblewrap" in capsys.readouterr().err


@needs_bwrap
def test_a_checkout_under_tmp_stays_visible_in_the_sandbox(monkeypatch):
    """The sandbox's private /tmp is mounted before the interpreter and course binds, so a checkout or venv
    under /tmp (as in a CI clone) is bound on top of it instead of being hidden by it."""
    import autograder.sandbox.bwrap as bwrap

    monkeypatch.setattr(bwrap, "python_roots", lambda: ["/tmp/ci-clone/.venv"])
    command = bwrap.bwrap_command(SandboxSettings())
    tmpfs = command.index("--tmpfs")
    venv_bind = max(i for i, arg in enumerate(command) if arg == "/tmp/ci-clone/.venv")
    assert tmpfs < venv_bind
