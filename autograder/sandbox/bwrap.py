"""The command line that starts one sandboxed worker, and the settings it gets.

The sandbox sees: the system's ``/usr`` (read-only), a few files of ``/etc``, the
Python installation and virtualenv (read-only), the course's ``course`` package and
the worker's own code (``autograder/sandbox``), and a private ``/tmp`` of limited size. It does not see the
repository (so neither ``source/`` nor the tests), the cohort folder (gradebook,
other students), the host's environment variables or the network.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_PACKAGE = Path(__file__).resolve().parent
"""``autograder/sandbox``: the worker, its shell and the protocol, bound into the sandbox."""
AUTOGRADER_INIT = SANDBOX_PACKAGE.parent / "__init__.py"
WORKER_MODULE = "autograder.sandbox.worker"
SANDBOX_COURSE_ROOT = "/opt/course"
SANDBOX_CODE_ROOT = "/opt/autograder"
SANDBOX_WORK_DIR = "/tmp/work"
ETC_FILES = ("ld.so.cache", "localtime", "fonts", "mime.types", "nsswitch.conf", "passwd", "group")
SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp/work/.home",
    "LANG": "C.UTF-8",
    "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": "/tmp/mplcache",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "COURSE_HEADLESS": "1",
}
"""The sandbox's whole environment. ``COURSE_HEADLESS=1``: the course's explorers and flashcards
return a cheap placeholder and draw nothing (grading displays nothing); every cell still runs."""
UID_BASE = 1_900_000_000
INSTALL_HINT = ("bubblewrap (`bwrap`) is not installed, so submissions cannot be isolated: install it with "
                "`apt-get install -y bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap`, or pass "
                "--no-sandbox to run WITHOUT isolation (only for code you trust, e.g. your own notebook).")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create its namespaces on this machine."""


def find_bwrap() -> str:
    """The path of the ``bwrap`` executable, or SandboxUnavailable saying how to install it."""
    path = shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap", "/bin/bwrap") if os.access(p, os.X_OK)), None)
    if path is None:
        raise SandboxUnavailable(INSTALL_HINT)
    return path


def find_course_package() -> Path:
    """The folder of the importable ``course`` package (the repository's ``course/``)."""
    repo_copy = Path(__file__).resolve().parents[2] / "course"
    if (repo_copy / "__init__.py").is_file():
        return repo_copy
    import importlib.util

    spec = importlib.util.find_spec("course")
    if spec is None or not spec.submodule_search_locations:
        raise SandboxUnavailable("cannot find the `course` package to show to the sandbox: "
                                 "run from the course repository or `pip install -e` it")
    return Path(list(spec.submodule_search_locations)[0])


@dataclass(frozen=True)
class SandboxSettings:
    """How workers start: isolated or not, and what they warm up with.

    Attributes:
        isolated: run each worker under bubblewrap (the default; False is for trusted code only).
        python: the interpreter (the virtualenv's, so the course's dependencies import), as an absolute
            path (not resolved through links: a virtualenv's ``python`` is a link to the base interpreter).
        course_package: the ``course`` folder shown read-only to the sandbox.
        tmp_size_bytes: size of the sandbox's private /tmp (the learner's only writable place).
        warm_imports: modules imported once per worker, before any fork.
        warm_cells: the course's own locked cells, run once per worker to fill caches.
    """

    isolated: bool = True
    python: str = field(default_factory=lambda: os.path.abspath(sys.executable))
    course_package: Path = field(default_factory=find_course_package)
    tmp_size_bytes: int = 512 * 1024 * 1024
    warm_imports: tuple[str, ...] = ()
    warm_cells: tuple[str, ...] = ()
    uid_offset: int = field(default_factory=lambda: random.randrange(0, 1 << 20) * 64)

    def learner_uid(self, slot: int) -> int | None:
        """The unprivileged uid a worker's children run as (root only; one uid per worker)."""
        if not self.isolated or os.geteuid() != 0:
            return None
        return UID_BASE + self.uid_offset + slot


def python_roots() -> list[str]:
    """Folders holding the interpreter, its standard library and the virtualenv's packages."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    candidates = sorted({os.path.realpath(r) for r in roots} | roots)
    usable = [r for r in candidates if r not in ("/", "/usr") and os.path.isdir(r) and not r.startswith("/usr/")]
    return [r for r in usable if not any(r.startswith(other.rstrip("/") + "/") for other in usable if other != r)]


def readable_parents(targets: list[str]) -> list[str]:
    """``--dir`` options creating every ancestor of ``targets`` world-readable (bwrap's default is 0700)."""
    parents: list[str] = []
    for target in targets:
        path = Path(target).parent
        chain = []
        while str(path) not in ("/", "/usr", "/tmp") and not str(path).startswith("/usr/"):
            chain.append(str(path))
            path = path.parent
        for folder in reversed(chain):
            if folder not in parents:
                parents.append(folder)
    options: list[str] = []
    for folder in parents:
        options += ["--perms", "0755", "--dir", folder]
    return options


def bwrap_command(settings: SandboxSettings) -> list[str]:
    """The full argv that starts one worker inside its own sandbox."""
    command = [find_bwrap(), "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "lib32", "sbin"):
        top = Path("/") / name
        if top.is_symlink():
            command += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            command += ["--ro-bind", str(top), str(top)]
    for name in ETC_FILES:
        path = Path("/etc") / name
        if path.exists():
            command += ["--ro-bind", str(path), str(path)]
    # /tmp first: binds below (a venv or course checked out under /tmp) must land on top of it, not under it.
    command += ["--perms", "0755", "--size", str(settings.tmp_size_bytes), "--tmpfs", "/tmp"]
    targets = [(root, root) for root in python_roots()]
    targets += [(str(settings.course_package), f"{SANDBOX_COURSE_ROOT}/course"),
                (str(AUTOGRADER_INIT), f"{SANDBOX_CODE_ROOT}/autograder/__init__.py"),
                (str(SANDBOX_PACKAGE), f"{SANDBOX_CODE_ROOT}/autograder/sandbox")]
    command += readable_parents([target for _, target in targets])
    for source, target in targets:
        command += ["--ro-bind", source, target]
    command += ["--proc", "/proc", "--dev", "/dev"]
    command += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--hostname", "jupyter", "--die-with-parent", "--new-session", "--chdir", "/tmp", "--clearenv"]
    if os.geteuid() == 0:
        command += ["--cap-drop", "ALL"]
        for capability in ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"):
            command += ["--cap-add", capability]
    else:
        command += ["--unshare-user"]
    for key, value in dict(SANDBOX_ENV, PYTHONPATH=f"{SANDBOX_COURSE_ROOT}:{SANDBOX_CODE_ROOT}").items():
        command += ["--setenv", key, value]
    command += ["--", settings.python, "-s", "-B", "-m", WORKER_MODULE]
    return command


def unsandboxed_command(settings: SandboxSettings, scratch: Path) -> tuple[list[str], dict[str, str]]:
    """argv and environment for a worker WITHOUT isolation (``--no-sandbox``; trusted code only)."""
    paths = dict.fromkeys([str(settings.course_package.parent), str(SANDBOX_PACKAGE.parent.parent)])
    env = dict(SANDBOX_ENV, PYTHONPATH=os.pathsep.join(paths), HOME=str(scratch / "home"),
               MPLCONFIGDIR=str(scratch / "mplcache"))
    return [settings.python, "-s", "-B", "-m", WORKER_MODULE], env


def hello_frame(settings: SandboxSettings, slot: int, scratch: Path | None) -> dict:
    """The first frame a worker reads: who its children run as, where they work, what to warm up."""
    work_dir = SANDBOX_WORK_DIR if settings.isolated else str((scratch or Path("/tmp")) / "work")
    return {"kind": "hello", "uid": settings.learner_uid(slot), "isolated": settings.isolated,
            "work_dir": work_dir, "warm_imports": list(settings.warm_imports),
            "warm_cells": list(settings.warm_cells)}
